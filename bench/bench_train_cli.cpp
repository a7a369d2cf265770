// Training benchmark driver: data once, interleaved 1..K-rank worker runs, checks, flat JSON summary.
#include "bench/bench_train_cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "bench/bench_common.hpp"
#include "bench/bench_ingest.hpp"
#include "app/ml_plugin.hpp"
#include "app/subprocess.hpp"
#include "core/error.hpp"
#include "store/atomic_output.hpp"

namespace tickstream {
namespace fs = std::filesystem;
namespace {

constexpr double kTargetEfficiency = 0.90, kTargetCommWait = 0.05;

// Synthetic store (as the quickstart: seed 1234, signal 0.13) with features, and the job config.
Config prepare(RankContext& ctx, const BenchTrainOptions& o, const fs::path& dir) {
  return prepare_bench_store(ctx, o.model_config, o.tickers, o.days, dir, o.warmup + o.steps);
}

// One `mpirun -np ranks tickstream bench train-worker` with one intra-op thread per rank.
nlohmann::json run_worker(const fs::path& dir, const BenchTrainOptions& o, int ranks, int rep) {
  const std::string report = (dir / fmt::format("run_np{}_{}.json", ranks, rep)).string();
  const std::vector<std::string> args{"bench", "train-worker", "--config", (dir / "bench.toml").string(),
                                "--steps", std::to_string(o.steps), "--warmup", std::to_string(o.warmup),
                                "--report", report, "--gemm"};
  // One thread per rank (see bench_common.hpp; other_threads_cpu_fraction shows the BLAS pool).
  const std::vector<std::string> argv = mpirun_one_thread_per_rank(ranks, args);
  settle_page_cache();
  const ProcessResult p = run_process(argv, 1800);
  TS_CHECK(p.exit_code == 0, "bench train: the {}-rank run failed (exit {})", ranks, p.exit_code);
  nlohmann::json r = read_json_file(report);
  TS_CHECK(r.at("ranks").get<int>() == ranks && r.at("threads_per_rank").get<int>() == 1,
           "bench train: the {}-rank run reports {} ranks x {} threads", ranks, r.at("ranks").dump(),
           r.at("threads_per_rank").dump());
  TS_CHECK(r.at("steps").get<int64_t>() == o.steps && r.at("last_step").get<int64_t>() == o.warmup + o.steps,
           "bench train: the {}-rank run trained {} timed steps (to step {}), {} + {} expected", ranks,
           r.at("steps").dump(), r.at("last_step").dump(), o.warmup, o.steps);
  r["repeat"] = rep;
  r["process_wall_s"] = p.seconds;
  return r;
}

// Repeats at one rank count must end with the same parameters (same data, seeds, reduction order).
void check_repeats(const std::vector<nlohmann::json>& runs) {
  for (const auto& r : runs)
    TS_CHECK(r.at("checksum") == runs.front().at("checksum"),
             "bench train: {}-rank repeats ended with different parameters ({} vs {})", r.at("ranks").dump(),
             r.at("checksum").dump(), runs.front().at("checksum").dump());
}

// GEMM reference per rank count: the fastest run per size; gemm_gflops(_K) is the best size's
// rate over all K ranks at once, and gemm_scaling_efficiency = gemm_gflops_K / (K gemm_gflops):
// how far this machine lets K concurrent one-thread ranks scale at all.
void add_gemm(nlohmann::json& j, const std::vector<std::vector<nlohmann::json>>& by_ranks) {
  std::vector<double> best_of_k;
  for (const auto& runs : by_ranks) {
    nlohmann::json sizes = runs.front().at("gemm");
    for (const auto& r : runs)
      for (size_t i = 0; i < sizes.size(); ++i)
        if (r.at("gemm")[i].at("gflops").get<double>() > sizes[i].at("gflops").get<double>()) sizes[i] = r.at("gemm")[i];
    double best = 0;
    for (const auto& s : sizes) best = std::max(best, s.at("gflops").get<double>());
    const size_t k = best_of_k.size() + 1;
    j[k == 1 ? std::string("gemm_gflops") : fmt::format("gemm_gflops_{}", k)] = best;
    j["gemm"][std::to_string(k)] = sizes;
    best_of_k.push_back(best);
  }
  const size_t k = best_of_k.size();
  if (k == 1) return;
  j["gemm_scaling_efficiency"] = best_of_k.back() / (static_cast<double>(k) * best_of_k.front());
  j["scaling_efficiency_vs_gemm"] = j["scaling_efficiency"].get<double>() / j["gemm_scaling_efficiency"].get<double>();
}

// Flat figures: samples/s (best, median), scaling efficiency T_K / (K T_1) (best, median, and per
// repeat from runs side by side), communication wait, CPU used outside the rank's thread.
void add_figures(nlohmann::json& j, const std::vector<std::vector<nlohmann::json>>& by_ranks) {
  const std::vector<double> t1 = field(by_ranks[0], "samples_per_s");
  for (size_t i = 0; i < by_ranks.size(); ++i) {
    const auto k = static_cast<int>(i + 1);
    const std::vector<double> t = field(by_ranks[i], "samples_per_s");
    const auto best = static_cast<size_t>(std::max_element(t.begin(), t.end()) - t.begin());
    j[fmt::format("samples_per_s_{}", k)] = t[best];
    j[fmt::format("samples_per_s_{}_median", k)] = median(t);
    // Of the fastest (least disturbed) run, like the samples/s, and the median over runs.
    j[fmt::format("comm_wait_fraction_{}", k)] = by_ranks[i][best].at("comm_wait_fraction");
    j[fmt::format("comm_wait_fraction_{}_min_rank", k)] = by_ranks[i][best].at("comm_wait_fraction_min_rank");
    j[fmt::format("comm_wait_fraction_{}_median", k)] = median(field(by_ranks[i], "comm_wait_fraction"));
    const std::vector<double> other = field(by_ranks[i], "other_threads_cpu_fraction");
    j[fmt::format("other_threads_cpu_fraction_{}", k)] = *std::max_element(other.begin(), other.end());
    if (k == 1) continue;
    std::vector<double> paired;
    for (size_t r = 0; r < t.size(); ++r) paired.push_back(t[r] / (k * t1[r]));
    j[fmt::format("scaling_efficiency_{}_per_repeat", k)] = paired;
  }
  const auto k = static_cast<int>(by_ranks.size());
  if (k == 1) return;
  j["scaling_efficiency"] = j[fmt::format("samples_per_s_{}", k)].get<double>() / (k * j["samples_per_s_1"].get<double>());
  j["scaling_efficiency_median"] =
      j[fmt::format("samples_per_s_{}_median", k)].get<double>() / (k * j["samples_per_s_1_median"].get<double>());
}

nlohmann::json summarize(const BenchTrainOptions& o, const Config& c,
                         const std::vector<std::vector<nlohmann::json>>& by_ranks) {
  const nlohmann::json& first = by_ranks[0].front();
  nlohmann::json j{{"benchmark", "train"}, {"machine", machine_json()}, {"repeat", o.repeat}, {"verified", true}};
  j["config"] = {{"model_config", o.model_config}, {"model", c.to_json().at("model")},
                 {"batch_size_per_rank", c.train.batch_size}, {"steps", o.steps}, {"warmup_steps", o.warmup},
                 {"tickers", o.tickers}, {"days", o.days}, {"features", first.at("features")},
                 {"threads_per_rank", 1}, {"backend", c.dist.backend},
                 {"environment", {{"TICKSTREAM_THREADS", "1"}, {"OPENBLAS_NUM_THREADS", "1"}}}};
  add_figures(j, by_ranks);
  const double fwd = first.at("forward_flops_per_sample").get<double>();
  j["forward_flops_per_sample"] = fwd;
  j["training_flops_per_sample"] = 3 * fwd;
  j["flops_note"] = "training FLOPs per sample = 3 x forward (backward ~ 2 x forward); model_gflops_1 = "
                    "samples_per_s_1 x 3 x forward_flops_per_sample; GEMM = torch::mm float32 n x n, 1 thread per "
                    "rank, all ranks at once";
  j["model_gflops_1"] = j["samples_per_s_1"].get<double>() * 3 * fwd / 1e9;
  add_gemm(j, by_ranks);
  j["model_vs_gemm"] = j["model_gflops_1"].get<double>() / j["gemm_gflops"].get<double>();
  j["targets"] = {{"scaling_efficiency", kTargetEfficiency}, {"comm_wait_fraction", kTargetCommWait}};
  if (by_ranks.size() > 1) {
    const std::string wait_key = fmt::format("comm_wait_fraction_{}", by_ranks.size());
    j["met"] = {{"scaling_efficiency", j["scaling_efficiency"].get<double>() >= kTargetEfficiency},
                {"comm_wait_fraction", j[wait_key].get<double>() <= kTargetCommWait}};
  }
  for (const auto& runs : by_ranks)
    for (const auto& r : runs) j["runs"].push_back(r);
  return j;
}

}  // namespace

nlohmann::json bench_train(RankContext& ctx, const BenchTrainOptions& o) {
  const ScratchDir dir(fs::temp_directory_path() / fmt::format("tickstream-bench-train-{}", getpid()));
  const Config c = prepare(ctx, o, dir.path);
  std::vector<std::vector<nlohmann::json>> by_ranks(static_cast<size_t>(o.ranks_max));
  for (int rep = 0; rep < o.repeat; ++rep)
    for (int k = 1; k <= o.ranks_max; ++k) by_ranks[static_cast<size_t>(k - 1)].push_back(run_worker(dir.path, o, k, rep));
  for (const auto& runs : by_ranks) check_repeats(runs);
  return summarize(o, c, by_ranks);
}

namespace {

void add_worker(CLI::App& bench, CommandRunner& runner) {
  auto config = std::make_shared<std::string>(), report = std::make_shared<std::string>();
  auto steps = std::make_shared<int64_t>(1), warmup = std::make_shared<int64_t>(0);
  auto gemm = std::make_shared<bool>(false);
  CLI::App* cmd = bench.add_subcommand("train-worker", "One timed training run (launched by bench train)");
  cmd->group("");  // hidden
  cmd->add_option("--config", *config)->required();
  cmd->add_option("--steps", *steps)->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", *warmup)->check(CLI::NonNegativeNumber);
  cmd->add_option("--report", *report)->required();
  cmd->add_flag("--gemm", *gemm, "Also time the GEMM reference (rank 0)");
  cmd->callback([&runner, config, report, steps, warmup, gemm] {
    runner = [=](RankContext& ctx) {
      return run_ml_command(ctx, "bench-train-worker", {{"config", *config}, {"report", *report}, {"steps", *steps},
                                                        {"warmup", *warmup}, {"gemm", *gemm}});
    };
  });
}

}  // namespace

void add_bench_train(CLI::App& bench, CommandRunner& runner) {
  auto o = std::make_shared<BenchTrainOptions>();
  auto flags = std::make_shared<RankSweepFlags>();
  o->model_config = default_model_config();
  CLI::App* cmd = bench.add_subcommand("train", "Training samples/s at 1..K ranks, scaling, communication wait, vs GEMM");
  cmd->add_option("--steps", o->steps, "Timed steps per run")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", o->warmup, "Untimed steps first")->capture_default_str()->check(CLI::Range(0, 1000));
  add_rank_sweep_options(cmd, *o, *flags, "Config whose periods, [model] and [train] are used");
  add_worker(bench, runner);
  cmd->callback([&runner, o, flags] {
    runner = rank_sweep_runner([o](RankContext& ctx) { return bench_train(ctx, *o); }, *flags,
                               "bench train (samples/s over all ranks, 1 thread per rank; best of interleaved runs)");
  });
}

}  // namespace tickstream
