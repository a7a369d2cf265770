// ML library entry: dispatches the subcommands that need libtorch.
#include "app/ml_entry.hpp"

#include "core/error.hpp"
#include "bench/bench_predict.hpp"
#include "predict/predict_command.hpp"
#include "bench/bench_train.hpp"
#include "train/train_command.hpp"
#include "research/backtest.hpp"
#include "research/sweep.hpp"

namespace tickstream {

int run_ml_entry(RankContext& ctx, const std::string& command, const nlohmann::json& args) {
  if (command == "train") return train_command(ctx, args);
  if (command == "predict") return predict_command(ctx, args);
  if (command == "backtest") return backtest_command(ctx, args);
  if (command == "sweep") return sweep_command(ctx, args);
  if (command == "bench-train-worker") return bench_train_worker(ctx, args);
  if (command == "bench-predict-worker") return bench_predict_worker(ctx, args);
  TS_INTERNAL_ERROR("the ML library has no command '{}'", command);
}

}  // namespace tickstream

// C linkage so the CLI finds it by name; the signature is C++ (same toolchain, same headers).
extern "C" int tickstream_ml_entry(tickstream::RankContext& ctx, const std::string& command,
                                   const nlohmann::json& args) {
  return tickstream::run_ml_entry(ctx, command, args);
}
