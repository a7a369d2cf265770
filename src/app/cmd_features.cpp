// `tickstream features`: compute features/labels/stats from a config; `features export`: one ticker as CSV.
#include <fstream>
#include <memory>

#include "app/commands.hpp"
#include "runtime/placement.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "features/export.hpp"
#include "features/pipeline.hpp"
#include "comm/agreement.hpp"
#include "store/atomic_output.hpp"
#include "store/file_util.hpp"

namespace tickstream {
namespace {

struct FeaturesArgs {
  std::string config, report;
  std::vector<std::string> overrides;
  bool force = false;
};

struct ExportArgs {
  std::string store, ticker, out;
};

void add_export(CLI::App& features, CommandRunner& runner) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* cmd = features.add_subcommand("export", "Write one ticker's features and labels as CSV");
  cmd->add_option("--store", a->store, "Store (.h5) with /features")->required();
  cmd->add_option("--ticker", a->ticker, "Ticker symbol")->required();
  cmd->add_option("--out", a->out, "Output CSV")->required();
  cmd->callback([&runner, a] {
    runner = [a](RankContext& ctx) {
      run_agreed(ctx.comm(), [&] {
        if (ctx.is_root()) export_ticker_csv(a->store, a->ticker, a->out);
      });
      print_root(ctx, fmt::format("features export: {} -> {}\n", a->ticker, a->out));
      return 0;
    };
  });
}

}  // namespace

void add_features(CLI::App& app, CommandRunner& runner) {
  auto a = std::make_shared<FeaturesArgs>();
  CLI::App* cmd = app.add_subcommand("features", "Compute features, labels and normalization statistics into the store");
  cmd->add_option("--config", a->config, "Job config (TOML)");
  cmd->add_option("--set", a->overrides, "Override a config key: section.key=value")->expected(1)->take_all();
  cmd->add_flag("--force", a->force, "Recompute even when the store already holds these features");
  cmd->add_option("--report", a->report, "Write the run's report (timings, cache key) as JSON here");
  cmd->require_subcommand(0, 1);
  add_export(*cmd, runner);
  cmd->callback([&runner, a, cmd] {
    if (cmd->got_subcommand("export")) return;
    runner = [a](RankContext& ctx) {
      Config config;
      run_agreed(ctx.comm(), [&] {
        TS_REQUIRE_INPUT(!a->config.empty(), "features: --config is required");
        config = load_config(a->config, a->overrides);
        if (!a->report.empty()) require_output_path(a->report);
      });
      ctx.ensure_kokkos();
      // The rank's share of the node's cores (as ingest's threads): host threads over its tickers.
      const FeaturesReport rep = run_features(ctx.comm(), config, a->force, cpu_share(ctx.local_size()));
      print_root(ctx, rep.cache_hit
                          ? fmt::format("features: cache hit, {} unchanged ({:.2f} s)\n", config.data.store, rep.total_s)
                          : fmt::format("features: {} tickers x {} bars -> {} in {:.2f} s (read {:.2f}, compute {:.2f}, "
                                        "write {:.2f}); {} valid rows, stats over {} training rows\n",
                                        rep.tickers, rep.bars, config.data.store, rep.total_s, rep.read_s,
                                        rep.compute_s, rep.write_s, rep.valid_rows, rep.train_rows));
      if (!a->report.empty())
        run_agreed(ctx.comm(), [&] {
          if (ctx.is_root()) write_file_atomically(a->report, rep.to_json().dump(2) + "\n");
        });
      return 0;
    };
  });
}

}  // namespace tickstream
