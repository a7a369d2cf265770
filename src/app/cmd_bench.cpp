// `tickstream bench`: benchmark drivers printing verified JSON (one per stage as they land).
#include <algorithm>
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
  auto no_pandas = std::make_shared<bool>(false);
  CLI::App* cmd = bench.add_subcommand(
      "ingest", "Ingest of synth OHLCV as CSV, Parquet, CSV.gz and long tables at several rank counts vs "
                "pandas / pyarrow / polars + h5py");
  cmd->add_flag("--json", *json, "Print only the JSON result");
  cmd->add_option("--tickers", o->tickers)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--days", o->days)->capture_default_str()->check(CLI::Range(2, 100000));
  cmd->add_option("--ranks", o->ranks, "Rank counts to run")->capture_default_str()->expected(1, -1);
  cmd->add_option("--repeat", o->repeat, "Interleaved repetitions (best is reported)")->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--workdir", o->workdir,
                  "Keep inputs and outputs here; its csv/, parquet/, gz/, long/ and direct.h5 are rewritten "
                  "(default: temp dir, removed)");
  cmd->add_option("--formats", o->formats,
                  "Input formats, comma-separated: csv, parquet, csv.gz, long-csv, long-parquet (a format this "
                  "tickstream or python cannot do is skipped with a note)")
      ->delimiter(',')->expected(1, -1)->capture_default_str()->check(CLI::IsMember(kIngestFormats));
  cmd->add_option("--peers", o->peers, "Python peers, comma-separated: pandas, pyarrow, polars")
      ->delimiter(',')->expected(0, -1)->capture_default_str()->check(CLI::IsMember(kIngestPeers));
  cmd->add_flag("--no-pandas", *no_pandas, "Leave pandas out of --peers");
  cmd->add_option("--python", o->python,
                  "Python of the pandas peer (default: the source tree's .venv/bin/python if it has pandas and "
                  "h5py, else /usr/bin/python3)");
  cmd->add_option("--peer-python", o->peer_python,
                  "Python of the pyarrow/polars peers and of bench/make_ingest_inputs.py (default: the source "
                  "tree's .venv/bin/python, else /usr/bin/python3)");
  cmd->add_option("--script", o->script, "The pandas peer script (default: bench/pandas_ingest.py)");
  cmd->callback([&runner, o, json, no_pandas] {
    if (*no_pandas) o->peers.erase(std::remove(o->peers.begin(), o->peers.end(), "pandas"), o->peers.end());
    runner = [o, json](RankContext& ctx) {
      TS_REQUIRE_INPUT(ctx.size() == 1, "bench: run it without mpirun; it launches its own ranks");
      return report_bench(ctx, bench_ingest(*o), *json, "",
                          "bench ingest (per input format: rows/s, MB/s of input bytes; best of interleaved runs)");
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
