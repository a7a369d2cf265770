// Training loop: data position, evaluation, early stopping, checkpoints, signals, resume.
#include "train/trainer.hpp"

#include <chrono>
#include <filesystem>
#include <limits>
#include <optional>

#include <cmath>
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include <spdlog/spdlog.h>
#include "runtime/fault.hpp"
#include "runtime/signals.hpp"
#include "core/keyed_rng.hpp"
#include "data/loader_stats.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "train/grad_sync.hpp"
#include "train/metrics_log.hpp"
#include "train/precision.hpp"
#include "train/schedule.hpp"
#include "train/tensorboard.hpp"
#include "train/train_step.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kDropoutPurpose = 0xd409;

int64_t total_steps(const Config& c, int64_t steps_per_epoch) {
  const int64_t all = c.train.epochs * steps_per_epoch;
  return c.train.max_steps > 0 ? std::min(all, c.train.max_steps) : all;
}

}  // namespace

struct TrainerState {
  const Config& config;
  comm::Communicator& comm;
  comm::Communicator& control;
  BatchSource& source;
  TrainOptions options;
  std::shared_ptr<SequenceModelImpl> model;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::unique_ptr<GradSync> sync;
  LrSchedule schedule;
  CheckpointState ckpt;  // position, early stopping, identity; kept current
  std::optional<MetricsLog> log;
  std::optional<TensorBoardWriter> tensorboard;  // rank 0, when [train] tensorboard_dir is set
  TrainReport report;
  int64_t run_start = 0;  // step this process started at
  int64_t saved_step = -1;  // step of the last checkpoint this process wrote
  double epoch_step_s = 0;  // time in training steps this epoch (the loader's stall fraction)
  double loss_sum = 0;   // since the last progress line
  int64_t loss_count = 0;

  TrainerState(const Config& c, comm::Communicator& cm, comm::Communicator& ctl, BatchSource& src, TrainOptions o)
      : config(c), comm(cm), control(ctl), source(src), options(o) {}
  bool root() const { return comm.rank() == 0; }
  StepInputs inputs(double lr) const {
    return StepInputs{lr, config.train.clip, ckpt.label_scale, config.train.label_weight, options.device,
                      config.train.precision == "bf16"};
  }
};

namespace {

// InputError listing the [model] keys whose values differ between the checkpoint and the config.
void require_same_model(const CheckpointState& saved, const CheckpointState& now, const std::string& path) {
  const nlohmann::json& a = saved.config.at("model");
  const nlohmann::json& b = now.config.at("model");
  std::string diff;
  for (auto it = b.begin(); it != b.end(); ++it)
    if (it.key() != "dropout" && (!a.contains(it.key()) || a.at(it.key()) != it.value()))
      diff += fmt::format(" [model] {}: checkpoint {}, config {};", it.key(), a.value(it.key(), nlohmann::json()).dump(),
                          it.value().dump());
  TS_REQUIRE_INPUT(diff.empty(), "{}: the checkpoint's model differs from the config:{}", path, diff);
}

// A fresh run must not mix its checkpoints with an earlier run's (pruning would keep the wrong ones).
void require_no_checkpoints(const Config& c) {
  const std::string& dir = c.train.checkpoint_dir;
  if (!std::filesystem::is_directory(dir)) return;
  const auto newest = resolve_checkpoint(dir);
  TS_REQUIRE_INPUT(!newest, "[train] checkpoint_dir = {} already holds checkpoints (newest {}): pass --resume to "
                   "continue that run, or remove them / choose another directory", dir, newest.value_or(""));
}

// Continues from the newest complete checkpoint; says what changed when the plan differs.
void restore(TrainerState& s) {
  const std::string& dir = s.config.train.checkpoint_dir;
  const auto path = std::filesystem::is_directory(dir) ? resolve_checkpoint(dir) : std::nullopt;
  TS_REQUIRE_INPUT(path.has_value(), "--resume: no complete checkpoint in [train] checkpoint_dir = {}",
                   s.config.train.checkpoint_dir);
  require_same_model(read_checkpoint_state(*path), s.ckpt, *path);
  const CheckpointState old = load_checkpoint(*path, *s.model, s.optimizer.get(), /*restore_rng=*/true, s.options.device);
  TS_REQUIRE_INPUT(old.n_features == s.ckpt.n_features, "{}: trained on {} features, the store has {}",
                   *path, old.n_features, s.ckpt.n_features);
  s.ckpt.label_scale = old.label_scale;  // the return head's units stay those it was trained in
  s.ckpt.step = old.step;
  s.ckpt.epoch = old.epoch;
  s.ckpt.step_in_epoch = old.step_in_epoch;
  s.ckpt.best_val_loss = old.best_val_loss;
  s.ckpt.bad_evals = old.bad_evals;
  s.ckpt.wall_s = old.wall_s;
  if (old.world_size != s.comm.size() || old.steps_per_epoch != s.ckpt.steps_per_epoch) {
    s.ckpt.step_in_epoch = old.step_in_epoch * s.ckpt.steps_per_epoch / std::max<int64_t>(1, old.steps_per_epoch);
    // The remaining epochs now take the new plan's steps; the schedule ends where training does.
    if (s.config.train.max_steps == 0)
      s.schedule.total_steps = old.step + (s.config.train.epochs - old.epoch) * s.ckpt.steps_per_epoch - s.ckpt.step_in_epoch;
    if (s.root())
      spdlog::warn("resume: checkpoint written by {} ranks with {} steps per epoch; now {} ranks with {}: "
                "epoch {} continues at step {} of {} (same fraction of the epoch), optimizer step {}",
                old.world_size, old.steps_per_epoch, s.comm.size(), s.ckpt.steps_per_epoch, old.epoch,
                s.ckpt.step_in_epoch, s.ckpt.steps_per_epoch, old.step);
  }
  if (s.root()) spdlog::info("resume: {} (step {}, epoch {}, batch {})", *path, old.step, old.epoch, old.step_in_epoch);
}

// Starts from another run's weights (same model and features); everything else starts fresh.
void warm_start(TrainerState& s, const std::string& path) {
  require_same_model(read_checkpoint_state(path), s.ckpt, path);
  const CheckpointState old = load_checkpoint(path, *s.model, nullptr, /*restore_rng=*/false, s.options.device);
  TS_REQUIRE_INPUT(old.n_features == s.ckpt.n_features, "{}: trained on {} features, the store has {}", path,
                   old.n_features, s.ckpt.n_features);
  if (s.root()) spdlog::info("train: weights from {} (step {})", path, old.step);
}

std::string write_checkpoint(TrainerState& s) {
  if (!s.options.checkpoints || !s.root()) return "";
  if (s.ckpt.step == s.saved_step) return s.report.checkpoint;  // this step is already saved
  s.ckpt.model_id = fmt::format("{}-{}-s{}", s.config.model.kind, s.config.hash().substr(0, 8), s.ckpt.step);
  s.saved_step = s.ckpt.step;
  return save_checkpoint(s.config.train.checkpoint_dir, *s.model, *s.optimizer, s.ckpt,
                         s.config.train.keep_checkpoints);
}

// The training loss since the last report, averaged over all ranks' steps (collective).
double mean_loss(TrainerState& s) {
  std::vector<double> sums{s.loss_sum, static_cast<double>(s.loss_count)};
  s.control.allreduce(comm::host_buffer(sums), comm::ReduceOp::sum);
  return sums[1] > 0 ? sums[0] / sums[1] : std::numeric_limits<double>::quiet_NaN();
}

// The largest stall fraction over the ranks this epoch (collective); NaN without a loader.
double agreed_stall(TrainerState& s, nlohmann::json* mine) {
  const std::optional<LoaderStats> typed = s.source.loader_stats();
  const nlohmann::json stats = typed ? loader_stats_json(*typed, s.epoch_step_s) : nlohmann::json();
  if (mine != nullptr) *mine = stats;
  const bool known = stats.is_object() && stats.value("stall_fraction", nlohmann::json()).is_number();
  std::vector<double> v{known ? stats["stall_fraction"].get<double>() : -1.0};
  s.control.allreduce(comm::host_buffer(v), comm::ReduceOp::max);
  return v[0] >= 0 ? v[0] : std::numeric_limits<double>::quiet_NaN();
}

// Every rank's device memory (collective): [{rank, allocated, reserved, peak}] in MB, null when no
// rank trains on a GPU.
nlohmann::json device_memory_by_rank(TrainerState& s) {
  const std::optional<DeviceMemory> mine = device_memory(s.options.device);
  std::vector<double> all(static_cast<size_t>(3 * s.control.size()));
  std::vector<double> own{mine ? mine->allocated_mb : -1.0, mine ? mine->reserved_mb : -1.0, mine ? mine->peak_mb : -1.0};
  s.control.allgather(comm::host_buffer(own), comm::host_buffer(all));
  nlohmann::json out = nlohmann::json::array();
  for (size_t r = 0; r < static_cast<size_t>(s.control.size()); ++r)
    if (all[3 * r] >= 0)
      out.push_back({{"rank", r}, {"allocated", all[3 * r]}, {"reserved", all[3 * r + 1]}, {"peak", all[3 * r + 2]}});
  return out.empty() ? nlohmann::json() : out;
}

// One line per epoch on rank 0: rank 0's loader statistics and the worst stall over the ranks.
void report_loader(TrainerState& s, int64_t epoch) {
  nlohmann::json mine;
  const double stall = agreed_stall(s, &mine);
  if (!s.root() || !mine.is_object()) return;
  spdlog::info("loader epoch {}: stall {:.2f}% (worst rank), wait ms mean {} p50 {} p99 {} max {}, read {} MB/s, "
               "cache hit rate {}, peak {} MB (bound {} MB)", epoch, 100 * stall, mine["wait_ms_mean"].dump(),
               mine["wait_ms_p50"].dump(), mine["wait_ms_p99"].dump(), mine["wait_ms_max"].dump(),
               mine["read_mb_s"].dump(), mine["cache_hit_rate"].dump(), mine["peak_mb"].dump(), mine["bound_mb"].dump());
}

// Evaluates, logs one metrics record, updates early stopping. True when training should stop.
bool evaluate_and_log(TrainerState& s, double lr, double samples_per_s, double wall_s) {
  const EvalResult e = evaluate(*s.model, s.source, s.control, s.inputs(lr));
  s.report.val_loss = e.val_loss;
  s.report.val = e.metrics;
  s.report.evaluated = true;
  if (std::isfinite(e.val_loss)) {  // NaN: no validation windows, nothing to stop on
    if (e.val_loss < s.ckpt.best_val_loss) s.ckpt.best_val_loss = e.val_loss, s.ckpt.bad_evals = 0;
    else ++s.ckpt.bad_evals;
  }
  const double loss = mean_loss(s);
  const double stall = agreed_stall(s, nullptr);
  const nlohmann::json memory = device_memory_by_rank(s);
  if (s.log) {
    const ProgressRecord p{s.ckpt.step, s.schedule.total_steps, s.ckpt.epoch, loss, lr, samples_per_s, wall_s,
                           s.run_start};
    nlohmann::json record = metrics_record(p, e.metrics, e.val_loss);
    record["stall_fraction"] = std::isfinite(stall) ? nlohmann::json(stall) : nlohmann::json();
    record["device_memory_mb"] = memory;
    s.log->write(record);
    if (s.tensorboard) write_evaluation_scalars(*s.tensorboard, record), s.tensorboard->flush();
    spdlog::info("eval step {}: val_loss {:.5f}  IC {:.4f}  rank IC {:.4f}  ICIR {:.3f}  dir acc {:.4f}", s.ckpt.step,
              e.val_loss, e.metrics.ic, e.metrics.rank_ic, e.metrics.icir, e.metrics.dir_acc);
  }
  return s.config.train.patience > 0 && s.ckpt.bad_evals >= s.config.train.patience;
}

// Every rank learns whether any rank received SIGTERM/SIGUSR1 (one tiny allreduce per step, with
// the communicator's timeout: a rank that stops arriving is named and the job ends).
int agreed_signal(const TrainerState& s, const StopSignalGuard& signals) {
  std::vector<int32_t> sig{signals.received()};
  s.control.allreduce(comm::host_buffer(sig), comm::ReduceOp::max);
  return sig[0];
}

void progress_line(TrainerState& s, double lr, double samples_per_s, double wall_s) {
  const double loss = mean_loss(s);
  if (!s.log || s.loss_count == 0) return;
  const ProgressRecord p{s.ckpt.step, s.schedule.total_steps, s.ckpt.epoch, loss, lr, samples_per_s, wall_s,
                         s.run_start};
  spdlog::info("{}", format_progress(p));
  if (s.tensorboard) write_progress_scalars(*s.tensorboard, p);
}

}  // namespace

Trainer::Trainer(const Config& config, comm::Communicator& comm, comm::Communicator& control, BatchSource& source,
                 TrainOptions options)
    : s_(std::make_unique<TrainerState>(config, comm, control, source, options)) {
  TrainerState& s = *s_;
  if (!options.resume && options.checkpoints) require_no_checkpoints(config);
  check_precision(config.train.precision, options.device);
  s.model = make_model(config.model, source.features(), static_cast<uint64_t>(config.train.seed));
  s.model->to(options.device);
  s.optimizer = make_optimizer(*s.model, config);
  s.sync = std::make_unique<GradSync>(comm, s.model->parameters(),
                                      static_cast<int64_t>(config.dist.bucket_mb * 1024 * 1024));
  s.schedule = LrSchedule{config.train.lr, config.train.warmup_steps, total_steps(config, source.steps_per_epoch())};
  s.ckpt.steps_per_epoch = source.steps_per_epoch();
  s.ckpt.world_size = comm.size();
  s.ckpt.label_scale = source.label_scale();
  s.ckpt.n_features = source.features();
  s.ckpt.config = config.to_json();
  s.ckpt.best_val_loss = std::numeric_limits<double>::infinity();
  const Normalization norm = source.normalization();
  s.ckpt.feature_names = norm.feature_names;
  s.ckpt.feature_mean = norm.mean;
  s.ckpt.feature_std = norm.std;
  s.ckpt.features_hash = norm.features_hash;
  if (options.resume) restore(s);
  else if (!options.init_weights.empty()) warm_start(s, options.init_weights);
  s.sync->broadcast_parameters();
  if (options.metrics_log && s.root()) s.log.emplace(config.train.metrics, /*append=*/options.resume);
  if (options.metrics_log && s.root() && !config.train.tensorboard_dir.empty())
    s.tensorboard.emplace(config.train.tensorboard_dir, /*append=*/options.resume);
  if (s.tensorboard && options.resume) s.tensorboard->resumed_after(s.ckpt.step);
}

Trainer::~Trainer() = default;

SequenceModelImpl& Trainer::model() { return *s_->model; }

namespace {

// Why the loop stops before the next step ("" = go on).
std::string stop_reason(TrainerState& s, const StopSignalGuard& signals, int64_t run_start) {
  if (s.ckpt.epoch >= s.config.train.epochs) return "finished";
  if (s.ckpt.step >= s.schedule.total_steps) return "max_steps";
  if (const int sig = agreed_signal(s, signals)) return fmt::format("signal {}", sig);
  if (s.options.stop_after > 0 && s.ckpt.step - run_start >= s.options.stop_after) return "stop_after";
  return "";
}

// One optimizer step at the current data position; advances the position.
StepResult one_step(TrainerState& s) {
  const double lr = s.schedule.at(s.ckpt.step);
  const double wait0 = s.sync->stats().wait_s;
  const auto t0 = Clock::now();
  // Dropout draws from a stream keyed by (seed, step, rank): a resumed run continues exactly.
  const uint64_t key = stream_key(static_cast<uint64_t>(s.config.train.seed),
                                        static_cast<uint64_t>(s.ckpt.step) << 16 | static_cast<uint64_t>(s.comm.rank()),
                                        kDropoutPurpose);
  torch::manual_seed(key >> 1);
  const Batch batch = s.source.train_batch(s.ckpt.epoch, s.ckpt.step_in_epoch);
  StepResult r;
  r.batch_s = seconds_since(t0);
  r.loss = train_step(*s.model, *s.optimizer, *s.sync, batch, s.inputs(lr));
  s.loss_sum += r.loss;
  ++s.loss_count, ++s.ckpt.step;
  if (++s.ckpt.step_in_epoch == s.ckpt.steps_per_epoch) s.ckpt.step_in_epoch = 0, ++s.ckpt.epoch;
  r.step = s.ckpt.step, r.epoch = s.ckpt.epoch, r.step_in_epoch = s.ckpt.step_in_epoch, r.lr = lr;
  r.seconds = seconds_since(t0);
  r.comm_wait_s = s.sync->stats().wait_s - wait0;
  return r;
}

// Throughput over the steps since the last evaluation.
struct RateWindow {
  Clock::time_point t0 = Clock::now();
  int64_t steps = 0;
  double per_s(int64_t samples_per_step) const {
    return static_cast<double>(steps * samples_per_step) / std::max(1e-9, seconds_since(t0));
  }
};

// Checks, progress, evaluation and checkpoints after a step. True when early stopping triggers.
bool after_step(TrainerState& s, double lr, RateWindow& rate, double wall) {
  const int64_t step = s.ckpt.step;
  const double sps = rate.per_s(s.config.train.batch_size * s.comm.size());
  if (s.config.dist.check_every > 0 && step % s.config.dist.check_every == 0)
    s.sync->check_parameters(step, s.control);
  const bool eval_now = s.options.evaluate && step % s.config.train.eval_every == 0;
  if (eval_now || step % 50 == 0) progress_line(s, lr, sps, wall);
  bool stop = false;
  if (eval_now) {
    stop = evaluate_and_log(s, lr, sps, s.ckpt.wall_s + wall);
    s.loss_sum = 0, s.loss_count = 0, rate = RateWindow{};
    if (s.config.train.checkpoint_every == 0) s.report.checkpoint = write_checkpoint(s);
  }
  if (s.config.train.checkpoint_every > 0 && step % s.config.train.checkpoint_every == 0)
    s.report.checkpoint = write_checkpoint(s);
  return stop;
}

void finish(TrainerState& s, int64_t run_start, double wall, double step_time) {
  s.report.step = s.ckpt.step;
  s.report.steps_this_run = s.ckpt.step - run_start;
  s.report.wall_s = wall;
  s.report.step_s = step_time;
  s.report.comm_wait_s = s.sync->stats().wait_s;
  const auto samples = static_cast<double>(s.report.steps_this_run * s.config.train.batch_size * s.comm.size());
  s.report.samples_per_s = step_time > 0 ? samples / step_time : 0;
  s.ckpt.wall_s += wall;
  const bool done = s.report.stop_reason == "finished" || s.report.stop_reason == "max_steps";
  if (done && s.options.evaluate && s.loss_count > 0)
    evaluate_and_log(s, s.schedule.at(s.ckpt.step), s.report.samples_per_s, s.ckpt.wall_s);
  s.report.checkpoint = write_checkpoint(s);
  if (s.tensorboard) s.tensorboard->flush();
  s.report.parameters_fnv1a = s.sync->parameter_checksum();
}

}  // namespace

TrainReport Trainer::run() {
  TrainerState& s = *s_;
  const StopSignalGuard signals;
  const auto t0 = Clock::now();
  const int64_t run_start = s.run_start = s.ckpt.step;
  double step_time = 0;
  RateWindow rate;
  for (;;) {
    s.report.stop_reason = stop_reason(s, signals, run_start);
    if (!s.report.stop_reason.empty()) break;
    const StepResult r = one_step(s);
    if (r.step >= 2) maybe_inject_fault("train_step", s.comm.rank());  // the others are in step 3
    step_time += r.seconds, s.epoch_step_s += r.seconds;
    if (s.ckpt.step_in_epoch == 0) {  // an epoch ended: its loader statistics, before the next begins
      report_loader(s, s.ckpt.epoch - 1);
      s.epoch_step_s = 0;
    }
    ++rate.steps;
    if (after_step(s, r.lr, rate, seconds_since(t0))) {
      s.report.stop_reason = "early_stopping";
      break;
    }
  }
  finish(s, run_start, seconds_since(t0), step_time);
  return s.report;
}

StepResult Trainer::step() { return one_step(*s_); }

uint64_t Trainer::parameters_fnv1a() const { return s_->sync->parameter_checksum(); }

}  // namespace tickstream
