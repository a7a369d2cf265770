// Sweep: groups of ranks claim trials through files in the sweep directory (O_EXCL), train them
// with the commands' own code, and record each result atomically.
#include "research/sweep.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "model/checkpoint.hpp"
#include "store/file_util.hpp"
#include "train/train_command.hpp"

namespace fs = std::filesystem;

namespace tickstream {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string result_path(const std::string& out, int64_t id) { return trial_dir(out, id) + "/result.json"; }
std::string claim_path(const std::string& out, int64_t id) { return trial_dir(out, id) + "/claim"; }

// The manifest ties a directory to one sweep: the same trials and base config, or InputError.
void check_manifest(const SweepOptions& o, const SweepGrid& grid, const std::string& config_hash) {
  const std::string path = o.out + "/sweep.json";
  const nlohmann::json want{{"grid", o.grid}, {"fingerprint", grid.fingerprint}, {"config_hash", config_hash},
                            {"trials", grid.trials.size()}, {"group_size", o.group_size}};
  if (fs::exists(path)) {
    std::ifstream in(path);
    const nlohmann::json have = nlohmann::json::parse(in, nullptr, false);
    TS_REQUIRE_INPUT(!have.is_discarded() && have.value("fingerprint", "") == grid.fingerprint &&
                         have.value("config_hash", "") == config_hash,
                     "--out {}: holds another sweep (other trials or base config: {}); choose another --out or "
                     "remove it", o.out, path);
    return;
  }
  write_file_atomically(path, want.dump(2) + "\n");
}

// Rank 0 before the groups start: directories, manifest, and the claims of trials an earlier,
// killed run did not finish (released, so they run again, resuming from their checkpoints).
void prepare(const SweepOptions& o, const SweepGrid& grid, const std::string& config_hash) {
  std::error_code ec;
  fs::create_directories(o.out, ec);
  TS_REQUIRE_INPUT(!ec, "--out {}: cannot create: {}", o.out, ec.message());
  check_manifest(o, grid, config_hash);
  for (const TrialSpec& t : grid.trials) {
    fs::create_directories(trial_dir(o.out, t.id));
    if (!fs::exists(result_path(o.out, t.id))) fs::remove(claim_path(o.out, t.id));
  }
}

// The next trial this group takes: the first unfinished one whose claim file it creates (-1: none).
int64_t claim_next(const SweepOptions& o, const SweepGrid& grid) {
  for (const TrialSpec& t : grid.trials) {
    if (fs::exists(result_path(o.out, t.id))) continue;
    const int fd = ::open(claim_path(o.out, t.id).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) continue;  // another group has it
    ::close(fd);
    return t.id;
  }
  return -1;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

double finite_or_nan(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : kNaN; }

// The trial's evaluations from its metrics log (all of its runs: a trial resumed after a kill has
// the evaluations of both): the best rank IC and the last record's metrics.
void read_evaluations(const std::string& metrics, TrialResult& r) {
  std::ifstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("val_rank_ic")) continue;
    const double rank_ic = finite_or_nan(j["val_rank_ic"]);
    if (std::isfinite(rank_ic) && !(r.best_val_rank_ic >= rank_ic)) r.best_val_rank_ic = rank_ic;
    r.val_rank_ic = rank_ic, r.val_ic = finite_or_nan(j.value("val_ic", nlohmann::json()));
    r.val_loss = finite_or_nan(j.value("val_loss", nlohmann::json()));
  }
}

// Trains one trial on the current group; any failure is the trial's, recorded, not the sweep's.
TrialResult run_trial(RankContext& ctx, const SweepOptions& o, const TrialSpec& t, int group) {
  TrialResult r;
  r.id = t.id, r.keys = t.to_json(), r.group = group;
  r.best_val_rank_ic = r.val_rank_ic = r.val_ic = r.val_loss = kNaN;
  const std::string dir = trial_dir(o.out, t.id);
  const double t0 = monotonic_seconds();
  try {
    std::vector<std::string> sets = o.overrides;
    for (const auto& s : t.overrides()) sets.push_back(s);
    for (const auto& [key, name] : {std::pair{"checkpoint_dir", "ckpt"}, {"metrics", "metrics.jsonl"},
                                    {"tensorboard_dir", "tb"}})
      sets.push_back(fmt::format("train.{}={}", key, quoted(dir + "/" + name)));
    Config config;
    run_agreed(ctx.comm(), [&] { config = load_config(o.config, sets); });
    TrainOptions options;
    options.resume = fs::is_directory(config.train.checkpoint_dir) &&
                     resolve_checkpoint(config.train.checkpoint_dir).has_value();  // killed mid-trial
    const TrainReport tr = run_training(ctx, config, options);
    r.status = "ok", r.steps = tr.step, r.stop_reason = tr.stop_reason;
    if (ctx.is_root()) read_evaluations(config.train.metrics, r);  // every run's, a resumed trial's too
  } catch (const std::exception& e) {
    r.status = "failed", r.error = fmt::format("{} (trial {}: {})", e.what(), t.id, fmt::join(t.overrides(), " "));
  }
  r.seconds = comm::allreduce(ctx.comm(), monotonic_seconds() - t0, comm::ReduceOp::max);
  return r;
}

// The group's loop: claim (group rank 0), share the claim, train, record. Stops at a stop signal
// (the trial keeps its checkpoint and claim-free state for the next run).
void run_group(RankContext& ctx, const SweepOptions& o, const SweepGrid& grid, int group) {
  for (;;) {
    const int64_t mine = ctx.is_root() ? claim_next(o, grid) : -1;
    const int64_t id = comm::allreduce<int64_t>(ctx.comm(), mine, comm::ReduceOp::max);
    if (id < 0) return;
    const TrialSpec& t = grid.trials[static_cast<size_t>(id)];
    if (ctx.is_root())
      spdlog::info("sweep: group {} trains trial {} ({})", group, id, fmt::join(t.overrides(), " "));
    const TrialResult r = run_trial(ctx, o, t, group);
    if (r.stop_reason.rfind("signal", 0) == 0) return;  // preempted: no result, resumed next run
    if (ctx.is_root()) {
      write_file_atomically(result_path(o.out, id), r.to_json().dump(2) + "\n");
      if (r.status == "ok")
        fmt::print("sweep: trial {} ok on group {}: best validation rank IC {:.4f}, {} steps, {:.1f} s\n", id, group,
                   r.best_val_rank_ic, r.steps, r.seconds);
      else
        fmt::print("sweep: trial {} failed on group {} after {:.1f} s: {}\n", id, group, r.seconds, r.error);
    }
  }
}

std::vector<TrialResult> collect(const SweepOptions& o, const SweepGrid& grid) {
  std::vector<TrialResult> out;
  for (const TrialSpec& t : grid.trials) {
    const std::string path = result_path(o.out, t.id);
    if (!fs::exists(path)) continue;  // a preempted trial: the next run finishes it
    std::ifstream in(path);
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    TS_REQUIRE_INPUT(!j.is_discarded(), "{}: not valid JSON (remove it to rerun the trial)", path);
    out.push_back(TrialResult::from_json(j));
  }
  return out;
}

}  // namespace

std::string trial_dir(const std::string& out, int64_t id) { return fmt::format("{}/trial-{:04d}", out, id); }

std::vector<TrialResult> run_sweep(RankContext& ctx, const SweepOptions& o) {
  SweepGrid grid;
  run_agreed(ctx.comm(), [&] {
    TS_REQUIRE_INPUT(o.group_size >= 1 && ctx.size() % o.group_size == 0,
                     "--group-size {}: must divide the {} ranks", o.group_size, ctx.size());
    grid = load_sweep_grid(o.grid);
    const Config base = load_config(o.config, o.overrides);
    if (ctx.is_root()) prepare(o, grid, base.hash());
  });
  const int group = ctx.rank() / o.group_size;
  {
    const auto scope = ctx.enter_group(group);
    run_group(ctx, o, grid, group);
  }
  ctx.comm().barrier();  // every result is written
  std::vector<TrialResult> results;
  run_agreed(ctx.comm(), [&] {
    if (ctx.is_root()) results = collect(o, grid);
  });
  return results;
}

}  // namespace tickstream
