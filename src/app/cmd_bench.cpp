// `tickstream bench`: benchmark drivers printing verified JSON (one per stage as they land).
#include <memory>

#include "bench/bench_features.hpp"
#include "bench/bench_ingest.hpp"
#include "bench/bench_loader.hpp"
#include "bench/bench_predict_cli.hpp"
#include "bench/bench_train_cli.hpp"
#include "app/commands.hpp"
#include "store/file_util.hpp"
#include "core/error.hpp"

namespace tickstream {
namespace {

void add_bench_ingest(CLI::App& bench, CommandRunner& runner) {
  auto o = std::make_shared<BenchIngestOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = bench.add_subcommand("ingest", "Ingest of synth CSV at several rank counts vs pandas + h5py");
  cmd->add_flag("--json", *json, "Print only the JSON result");
  cmd->add_option("--tickers", o->tickers)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--days", o->days)->capture_default_str()->check(CLI::Range(2, 100000));
  cmd->add_option("--ranks", o->ranks, "Rank counts to run")->capture_default_str()->expected(1, -1);
  cmd->add_option("--repeat", o->repeat, "Interleaved repetitions (best is reported)")->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--workdir", o->workdir, "Keep inputs and outputs here (default: temp dir, removed)");
  cmd->add_option("--python", o->python, "Python with pandas and h5py")->capture_default_str();
  o->script = std::string(TICKSTREAM_SOURCE_DIR) + "/bench/pandas_ingest.py";
  cmd->add_option("--script", o->script, "The pandas peer script")->capture_default_str();
  cmd->add_flag("!--no-pandas", o->pandas, "Skip the pandas peer");
  cmd->callback([&runner, o, json] {
    runner = [o, json](RankContext& ctx) {
      TS_REQUIRE_INPUT(ctx.size() == 1, "bench: run it without mpirun; it launches its own ranks");
      return report_bench(ctx, bench_ingest(*o), *json, "",
                          "bench ingest (rows/s and MB/s of CSV input; best of interleaved runs)");
    };
  });
}

void add_bench_features(CLI::App& bench, CommandRunner& runner) {
  auto o = std::make_shared<BenchFeaturesOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = bench.add_subcommand("features", "Cold features at several rank counts, cache hit, kernels vs memcpy");
  cmd->add_flag("--json", *json, "Print only the JSON result");
  cmd->add_option("--tickers", o->tickers)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--days", o->days)->capture_default_str()->check(CLI::Range(60, 100000));
  cmd->add_option("--ranks", o->ranks, "Rank counts to run")->capture_default_str()->expected(1, -1);
  cmd->add_option("--repeat", o->repeat, "Interleaved repetitions (best is reported)")->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->callback([&runner, o, json] {
    runner = [o, json](RankContext& ctx) {
      TS_REQUIRE_INPUT(ctx.size() == 1, "bench: run it without mpirun; it launches its own ranks");
      ctx.ensure_kokkos();
      return report_bench(ctx, bench_features(*o), *json, "",
                          "bench features (cold = read + kernels + stats + write; best of interleaved runs)");
    };
  });
}

}  // namespace

void add_bench(CLI::App& app, CommandRunner& runner) {
  CLI::App* bench = app.add_subcommand("bench", "Verified benchmarks printing JSON");
  bench->require_subcommand(1);
  add_bench_ingest(*bench, runner);
  add_bench_features(*bench, runner);
  add_bench_train(*bench, runner);
  add_bench_loader(*bench, runner);
  add_bench_predict(*bench, runner);
}

}  // namespace tickstream
