// `tickstream sweep --config C.toml --grid G.toml [--out DIR] [--group-size K]`: runs in the ML
// library.
#include <memory>

#include "app/commands.hpp"
#include "app/ml_plugin.hpp"
#include "runtime/signals.hpp"

namespace tickstream {
namespace {

struct SweepArgs {
  std::string config, grid, out = "runs/sweep";
  std::vector<std::string> overrides;
  int group_size = 1;
  DeviceFlags device;
};

}  // namespace

void add_sweep(CLI::App& app, CommandRunner& runner) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand("sweep", "Hyperparameter sweep: groups of ranks train one trial each, "
                                              "taking the next when they free; resumes after a kill");
  cmd->add_option("--config", a->config, "Base job config (TOML)")->required();
  cmd->add_option("--grid", a->grid, "Grid file: [grid] lists or [random] distributions over config keys")->required();
  cmd->add_option("--out", a->out, "Sweep directory: a trial-NNNN directory per trial, results, best.toml")
      ->capture_default_str();
  cmd->add_option("--set", a->overrides, "Override a config key of every trial: section.key=value")
      ->expected(1)->take_all();
  cmd->add_option("--group-size", a->group_size, "Ranks per trial (data parallel); must divide the ranks")
      ->check(CLI::PositiveNumber)->capture_default_str();
  add_device_flags(*cmd, a->device);
  cmd->callback([&runner, a] {
    runner = [a](RankContext& ctx) {
      const StopSignalGuard startup;  // a signal before the first step still stops cleanly
      apply_device_flags(ctx, a->device);
      return run_ml_command(ctx, "sweep", {{"config", a->config}, {"grid", a->grid}, {"out", a->out},
                                           {"set", a->overrides}, {"group_size", a->group_size}});
    };
  });
}

}  // namespace tickstream
