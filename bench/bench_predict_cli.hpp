// `tickstream bench predict`: stocks/s of the daily prediction job at 1..K ranks, scaling, vs GEMM.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"

namespace tickstream {

struct BenchPredictOptions {
  int64_t tickers = 5000;  // the universe the replaced system scored (5,000 stocks in 62 s on CPU)
  int64_t days = 1260;
  int ranks_max = 2;       // runs at 1..ranks_max ranks, one thread each
  int repeat = 3;          // the rank counts alternate this many times
  std::string model_config;  // [data] periods and [model] of this config (the quickstart's)
};

// Single process: prepares a synthetic store with features and an initialized (untrained)
// checkpoint of the config's model once, then alternates `mpirun -np k tickstream bench
// predict-worker` runs (TICKSTREAM_THREADS=1), each scoring every ticker at the store's last bar
// into an HDF5 file with the real prediction pipeline. Verifies every run's counts (scored +
// skipped = tickers, all scored written, no non-finite prediction) and that every run's file
// holds the first 1-rank run's tickers, as-of and ranks, with pred_return and prob_up equal within
// 1e-5 relative, before it reports. Each run also times torch::mm on all its ranks at once.
nlohmann::json bench_predict(RankContext& ctx, const BenchPredictOptions& options);

// Registers `bench predict` and the hidden `bench predict-worker` (one run, in the ML library).
void add_bench_predict(CLI::App& bench, CommandRunner& runner);

}  // namespace tickstream
