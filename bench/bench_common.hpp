// Helpers shared by the benchmark drivers that launch mpirun workers (bench train, bench predict).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"
#include "core/config.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {

// The benchmark's scratch directory, emptied when made and removed when the benchmark ends (also
// on failure).
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(std::filesystem::path p);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// configs/quickstart.toml of the source tree ($TICKSTREAM_SOURCE_DIR when set, else the build's).
std::string default_model_config();

// A benchmark job's config text: the data periods, [features] horizon, [model] and [train] of
// `q`; the store (`dir`/store.h5), checkpoints (`dir`/ckpt) and metrics in `dir`; exactly
// `max_steps` steps; the cross-rank check left to the worker.
std::string bench_config_text(const Config& q, const std::filesystem::path& dir, int64_t max_steps);

// A synthetic store as the quickstart's (seed 1234, signal 0.13) of `tickers` x `days` in
// `dir`/store.h5 with its features, and the job config `dir`/bench.toml (bench_config_text of
// `model_config`), loaded and returned. This process only (run it without mpirun).
Config prepare_bench_store(RankContext& ctx, const std::string& model_config, int64_t tickers, int64_t days,
                           const std::filesystem::path& dir, int64_t max_steps);

// `mpirun -np ranks <this executable> args...` with one intra-op thread per rank: the placement's
// count (TICKSTREAM_THREADS) sets libtorch's intra-op threads; OpenBLAS (Debian's libtorch) keeps
// its own pool of one thread per core, whose idle workers spin on sched_yield and take the other
// rank's core, unless OPENBLAS_NUM_THREADS=1.
std::vector<std::string> mpirun_one_thread_per_rank(int ranks, const std::vector<std::string>& args);

// The command line of a benchmark that launches its own 1..K-rank runs: --json, --tickers, --days,
// --ranks-max, --repeat, --model-config (`o`'s fields of those names) and --out.
struct RankSweepFlags {
  bool json = false;
  std::string out;
};
template <typename Options>
void add_rank_sweep_options(CLI::App* cmd, Options& o, RankSweepFlags& flags, const char* model_config_help) {
  cmd->add_flag("--json", flags.json, "Print only the JSON result");
  cmd->add_option("--tickers", o.tickers)->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--days", o.days)->capture_default_str()->check(CLI::Range(100, 100000));
  cmd->add_option("--ranks-max", o.ranks_max, "Run at 1..K ranks")->capture_default_str()->check(CLI::Range(1, 8));
  cmd->add_option("--repeat", o.repeat, "Interleaved repetitions (best and median are reported)")
      ->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--model-config", o.model_config, model_config_help)->capture_default_str();
  cmd->add_option("--out", flags.out, "Also write the JSON to this file");
}

// The runner of such a benchmark: refuses to run under mpirun (it launches its own ranks), checks
// --out, runs `bench` and reports its JSON under `title` (report_bench).
CommandRunner rank_sweep_runner(std::function<nlohmann::json(RankContext&)> bench, RankSweepFlags flags,
                                std::string title);

double median(std::vector<double> v);

// The number `key` of every run report.
std::vector<double> field(const std::vector<nlohmann::json>& runs, const char* key);

}  // namespace tickstream
