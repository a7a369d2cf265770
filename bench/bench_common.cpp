// Helpers shared by the benchmark drivers: scratch directory, job config, data, mpirun, statistics.
#include "bench/bench_common.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "app/subprocess.hpp"
#include "core/error.hpp"
#include "store/atomic_output.hpp"
#include "core/time.hpp"
#include "features/pipeline.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace fs = std::filesystem;

ScratchDir::ScratchDir(fs::path p) : path(std::move(p)) {
  fs::remove_all(path);
  fs::create_directories(path);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

std::string default_model_config() {
  const char* env = std::getenv("TICKSTREAM_SOURCE_DIR");
  return std::string(env != nullptr && *env != '\0' ? env : TICKSTREAM_SOURCE_DIR) + "/configs/quickstart.toml";
}

namespace {

std::string toml_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string bench_config_text(const Config& q, const fs::path& dir, int64_t max_steps) {
  std::string s = fmt::format("[data]\nstore = \"{}\"\nshard = \"{}\"\ntrain_start = {}\ntrain_end = {}\n",
                              (dir / "store.h5").string(), q.data.shard, format_timestamp(q.data.train_start),
                              format_timestamp(q.data.train_end));
  if (q.data.valid_start != 0)
    s += fmt::format("valid_start = {}\nvalid_end = {}\n", format_timestamp(q.data.valid_start),
                     format_timestamp(q.data.valid_end));
  if (q.data.test_start != 0) s += fmt::format("test_start = {}\n", format_timestamp(q.data.test_start));
  s += fmt::format("[features]\nhorizon = {}\n", q.features.horizon);
  s += fmt::format("[model]\nkind = \"{}\"\nd_model = {}\nn_layers = {}\nn_heads = {}\nseq_len = {}\ndropout = {}\n",
                   q.model.kind, q.model.d_model, q.model.n_layers, q.model.n_heads, q.model.seq_len,
                   toml_float(q.model.dropout));
  s += fmt::format("[train]\nbatch_size = {}\nepochs = 1000000\nmax_steps = {}\nlr = {}\nwarmup_steps = {}\n"
                   "weight_decay = {}\nclip = {}\nseed = {}\nlabel_weight = {}\ncheckpoint_dir = \"{}\"\n"
                   "metrics = \"{}\"\n",
                   q.train.batch_size, max_steps, toml_float(q.train.lr), q.train.warmup_steps,
                   toml_float(q.train.weight_decay), toml_float(q.train.clip), q.train.seed,
                   toml_float(q.train.label_weight), (dir / "ckpt").string(), (dir / "metrics.jsonl").string());
  s += fmt::format("[dist]\nbackend = \"{}\"\nbucket_mb = {}\ncheck_every = 0\n", q.dist.backend,
                   toml_float(q.dist.bucket_mb));
  return s;
}

Config prepare_bench_store(RankContext& ctx, const std::string& model_config, int64_t tickers, int64_t days,
                           const fs::path& dir, int64_t max_steps) {
  const Config q = load_config(model_config);
  SynthSpec spec;
  spec.tickers = tickers, spec.days = days, spec.seed = 1234, spec.signal = 0.13;  // launch/quickstart.sh
  run_synth(*comm::make_self_communicator(), spec, {"", (dir / "store.h5").string()});
  std::ofstream(dir / "bench.toml") << bench_config_text(q, dir, max_steps);
  const Config c = load_config((dir / "bench.toml").string());
  ctx.ensure_kokkos();
  run_features(ctx.comm(), c, /*force=*/false);
  return c;
}

std::vector<std::string> mpirun_one_thread_per_rank(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> argv = mpirun_self(ranks, args);
  argv.insert(argv.begin() + 1, {"-x", "TICKSTREAM_THREADS=1", "-x", "OPENBLAS_NUM_THREADS=1"});
  return argv;
}

CommandRunner rank_sweep_runner(std::function<nlohmann::json(RankContext&)> bench, RankSweepFlags flags,
                                std::string title) {
  return [bench = std::move(bench), flags = std::move(flags), title = std::move(title)](RankContext& ctx) {
    TS_REQUIRE_INPUT(ctx.size() == 1, "bench: run it without mpirun; it launches its own ranks");
    if (!flags.out.empty()) require_output_path(flags.out);
    return report_bench(ctx, bench(ctx), flags.json, flags.out, title);
  };
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<double> field(const std::vector<nlohmann::json>& runs, const char* key) {
  std::vector<double> out;
  for (const auto& r : runs) out.push_back(r.at(key).get<double>());
  return out;
}

}  // namespace tickstream
