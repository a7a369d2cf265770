// `tickstream train --config C.toml [--set k=v ...] [--resume]`: runs in the ML library.
#include <memory>

#include "app/commands.hpp"
#include "app/ml_plugin.hpp"
#include "runtime/signals.hpp"

namespace tickstream {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
  int64_t stop_after = 0;
  DeviceFlags device;
};

}  // namespace

void add_train(CLI::App& app, CommandRunner& runner) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train one model over all ranks (data parallel)");
  cmd->add_option("--config", a->config, "Job config (TOML)")->required();
  cmd->add_option("--set", a->overrides, "Override a config key: section.key=value")->expected(1)->take_all();
  cmd->add_flag("--resume", a->resume, "Continue from the newest complete checkpoint in [train] checkpoint_dir");
  cmd->add_option("--stop-after", a->stop_after,
                  "Stop after this many steps of this run, with a checkpoint, as if preempted (tests)")
      ->check(CLI::NonNegativeNumber);
  add_device_flags(*cmd, a->device);
  cmd->callback([&runner, a] {
    runner = [a](RankContext& ctx) {
      const StopSignalGuard startup;  // SIGTERM/SIGUSR1 before the first step: stop there, checkpoint
      apply_device_flags(ctx, a->device);
      return run_ml_command(ctx, "train", {{"config", a->config}, {"set", a->overrides},
                                           {"resume", a->resume}, {"stop_after", a->stop_after}});
    };
  });
}

}  // namespace tickstream
