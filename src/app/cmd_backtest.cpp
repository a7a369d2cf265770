// `tickstream backtest --config C.toml --walk-forward [--set k=v ...]`: the folds run in the ML
// library; rank 0 then draws the report's PNG with launch/plot_backtest.py.
#include <spdlog/spdlog.h>

#include <memory>

#include "app/commands.hpp"
#include "app/ml_plugin.hpp"
#include "app/subprocess.hpp"
#include "core/config.hpp"

namespace tickstream {
namespace {

struct BacktestArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool walk_forward = false, plot = true;
  DeviceFlags device;
};

// Draws <out_dir>/backtest.png from backtest.json (the Python plotter, matplotlib). A missing
// plotter is a warning: the JSON and CSV are the results, the PNG their picture.
void plot_report(const BacktestArgs& a) {
  const Config c = load_config(a.config, a.overrides);
  const std::string json = c.backtest.out_dir + "/backtest.json", png = c.backtest.out_dir + "/backtest.png";
  const ProcessResult r = run_process(
      {"/usr/bin/python3", std::string(TICKSTREAM_SOURCE_DIR) + "/launch/plot_backtest.py", json, png}, 120.0);
  if (r.exit_code == 0) {
    fmt::print("backtest: wrote {}\n", png);
  } else {
    spdlog::warn("backtest: no PNG: launch/plot_backtest.py exited with {} (matplotlib missing? run "
                 "launch/install-deps.sh); the report is {}", r.exit_code, json);
  }
}

}  // namespace

void add_backtest(CLI::App& app, CommandRunner& runner) {
  auto a = std::make_shared<BacktestArgs>();
  CLI::App* cmd = app.add_subcommand("backtest", "Walk-forward backtest: train each fold on its past, score its test "
                                                 "window out of sample, and the long-short portfolio");
  cmd->add_option("--config", a->config, "Job config (TOML): [backtest] folds, [model], [train]")->required();
  cmd->add_option("--set", a->overrides, "Override a config key: section.key=value")->expected(1)->take_all();
  cmd->add_flag("--walk-forward", a->walk_forward, "Folds of [backtest] through time (the one mode)")->required();
  cmd->add_flag("!--no-plot", a->plot, "Skip the PNG");
  add_device_flags(*cmd, a->device);
  cmd->callback([&runner, a] {
    runner = [a](RankContext& ctx) {
      apply_device_flags(ctx, a->device);
      const int code = run_ml_command(ctx, "backtest", {{"config", a->config}, {"set", a->overrides}});
      if (code == 0 && a->plot && ctx.is_root()) plot_report(*a);
      return code;
    };
  });
}

}  // namespace tickstream
