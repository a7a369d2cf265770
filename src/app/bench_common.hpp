// Helpers shared by the benchmark drivers that launch mpirun workers (bench train, bench predict).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

double median(std::vector<double> v);

// The number `key` of every run report.
std::vector<double> field(const std::vector<nlohmann::json>& runs, const char* key);

}  // namespace tickstream
