// Training benchmark worker: untimed warm-up, timed steps through the Trainer, checks, GEMM reference.
#include "bench/bench_train.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/hash.hpp"
#include "comm/agreement.hpp"
#include "store/file_util.hpp"
#include "train/batch_source.hpp"
#include "train/streaming_source.hpp"
#include "train/train_command.hpp"
#include "train/train_step.hpp"
#include "train/trainer.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds (user + system) of this process's threads: the calling thread, and all the others
// (MPI/PMIx helpers, and BLAS or OpenMP pools that ignore the rank's thread count).
struct ThreadCpu {
  double self_s = 0, others_s = 0;
};

ThreadCpu thread_cpu() {
  ThreadCpu t;
  const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  const std::string self = std::to_string(syscall(SYS_gettid));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos) continue;  // the thread exited meanwhile
    std::istringstream fields(stat.substr(name_end + 1));
    std::string field;
    double cpu = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)  // fields 14 and 15: utime, stime (ticks)
      if (i >= 14) cpu += std::stod(field) / tick;
    (task.path().filename() == self ? t.self_s : t.others_s) += cpu;
  }
  return t;
}

struct Timed {
  int64_t steps = 0;      // optimizer steps run
  int64_t last_step = 0;  // the trainer's step count afterwards
  double step_s = 0;      // sum of the trainer's step times (forward, backward, sync, optimizer)
  double comm_wait_s = 0; // of which blocked on gradient communication
  double batch_s = 0;     // of which getting the batch (the data path)
  double wall_s = 0;      // the whole loop, including the trainer's per-step bookkeeping
  double other_threads_cpu = 0;  // share of the process's CPU time used by threads but this one
  uint64_t parameters = 0;  // the trainer's parameter fingerprint afterwards
};

// `steps` calls of Trainer::step() (warm-up steps are a separate call, left out of the timing).
Timed run_steps(Trainer& trainer, int64_t steps) {
  Timed t;
  const ThreadCpu cpu0 = thread_cpu();
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    const StepResult r = trainer.step();
    t.step_s += r.seconds;
    t.comm_wait_s += r.comm_wait_s;
    t.batch_s += r.batch_s;
    t.last_step = r.step;
    ++t.steps;
  }
  t.wall_s = seconds_since(t0);
  const ThreadCpu cpu1 = thread_cpu();
  const double self = cpu1.self_s - cpu0.self_s, others = std::max(0.0, cpu1.others_s - cpu0.others_s);
  t.other_threads_cpu = others / std::max(1e-9, self + others);
  t.parameters = trainer.parameters_fnv1a();
  return t;
}

// Loss of the trained model on the first training batch (no dropout), this rank's.
double final_loss(SequenceModelImpl& model, BatchSource& source, const Config& config, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model.eval();
  const Batch batch = source.train_batch(0, 0);
  const ModelOutput out = model.forward(batch.x.to(device));
  const double loss =
      training_loss(out, batch, source.label_scale(), config.train.label_weight).total.item<double>();
  model.train();
  return loss;
}

struct Checked {
  uint64_t checksum = 0;
  double loss = 0;  // mean over ranks
};

// Every rank holds rank 0's parameters and a finite loss.
Checked verify(comm::Communicator& world, Trainer& trainer, BatchSource& source, const Config& config,
               const torch::Device& device, const Timed& t) {
  const auto sums = comm::allgather<uint64_t>(world, t.parameters);
  for (size_t r = 1; r < sums.size(); ++r)
    TS_CHECK(sums[r] == sums[0], "bench train: parameters differ after step {}: rank {} {:016x}, rank 0 {:016x}",
             t.last_step, r, sums[r], sums[0]);
  const double mine = final_loss(trainer.model(), source, config, device);
  const int finite = comm::allreduce<int32_t>(world, std::isfinite(mine) ? 1 : 0, comm::ReduceOp::min);
  TS_CHECK(finite == 1, "bench train: the loss after step {} is not finite on some rank (rank {}: {})", t.last_step,
           world.rank(), mine);
  return {sums[0], comm::allreduce<double>(world, mine, comm::ReduceOp::sum) / static_cast<double>(sums.size())};
}

nlohmann::json report_json(RankContext& ctx, const Config& config, const BatchSource& source, const Timed& t,
                           const Checked& c) {
  comm::Communicator& w = ctx.comm();
  const double step_s = comm::allreduce<double>(w, t.step_s, comm::ReduceOp::max);
  const double samples = static_cast<double>(t.steps * config.train.batch_size * ctx.size());
  // The slowest rank waits least: its fraction is closest to the communication cost alone; the
  // other ranks' also holds the time they wait for it (max over ranks is the figure reported).
  const double wait_fraction = t.comm_wait_s / std::max(1e-12, t.step_s);
  return {{"ranks", ctx.size()},
          {"threads_per_rank", at::get_num_threads()},
          {"steps", t.steps},
          {"last_step", t.last_step},
          {"batch_size_per_rank", config.train.batch_size},
          {"samples_per_s", samples / step_s},
          {"wall_samples_per_s", samples / comm::allreduce<double>(w, t.wall_s, comm::ReduceOp::max)},
          {"step_s", step_s},
          {"comm_wait_s", comm::allreduce<double>(w, t.comm_wait_s, comm::ReduceOp::max)},
          {"comm_wait_fraction", comm::allreduce<double>(w, wait_fraction, comm::ReduceOp::max)},
          {"comm_wait_fraction_min_rank", comm::allreduce<double>(w, wait_fraction, comm::ReduceOp::min)},
          {"data_fraction", comm::allreduce<double>(w, t.batch_s / std::max(1e-12, t.step_s), comm::ReduceOp::max)},
          {"other_threads_cpu_fraction", comm::allreduce<double>(w, t.other_threads_cpu, comm::ReduceOp::max)},
          {"checksum", hex64(c.checksum)},
          {"loss", c.loss},
          {"features", source.features()},
          {"forward_flops_per_sample", forward_flops_per_sample(config.model, source.features())}};
}

// Largest error of sampled entries of c = a b against a double-precision dot product, relative
// to sum |a_ik b_kj|.
double gemm_error(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
  const int64_t n = a.size(0);
  const auto A = a.accessor<float, 2>(), B = b.accessor<float, 2>(), C = c.accessor<float, 2>();
  double worst = 0;
  for (int64_t i : {int64_t{0}, n / 2, n - 1})
    for (int64_t j : {int64_t{0}, n / 3, n - 1}) {
      double dot = 0, mag = 0;
      for (int64_t k = 0; k < n; ++k) {
        dot += static_cast<double>(A[i][k]) * B[k][j];
        mag += std::fabs(static_cast<double>(A[i][k]) * B[k][j]);
      }
      worst = std::max(worst, std::fabs(C[i][j] - dot) / std::max(mag, 1e-30));
    }
  return worst;
}

}  // namespace

nlohmann::json gemm_reference(comm::Communicator& comm, const std::vector<int64_t>& sizes, int trials, int reps) {
  torch::NoGradGuard no_grad;
  const int ranks = comm.size();
  nlohmann::json out = nlohmann::json::array();
  for (const int64_t n : sizes) {
    torch::manual_seed(7);
    const torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
    torch::Tensor c = torch::mm(a, b);  // warm-up: packing buffers, pages
    double best = 1e300;
    for (int trial = 0; trial < trials; ++trial) {
      comm.barrier();
      const auto t0 = Clock::now();
      for (int r = 0; r < reps; ++r) c = torch::mm(a, b);
      best = std::min(best, comm::allreduce<double>(comm, seconds_since(t0), comm::ReduceOp::max));
    }
    const double err = comm::allreduce<double>(comm, gemm_error(a, b, c), comm::ReduceOp::max);
    TS_CHECK(err < 1e-4, "bench train: GEMM reference n={} is wrong (relative error {})", n, err);
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * reps;
    out.push_back({{"n", n}, {"ranks", ranks}, {"seconds_per_mm", best / reps},
                   {"gflops", ranks * flops / best / 1e9}, {"gflops_per_rank", flops / best / 1e9},
                   {"max_relative_error", err}});
  }
  return out;
}

int bench_train_worker(RankContext& ctx, const nlohmann::json& args) {
  Config config;
  run_agreed(ctx.comm(), [&] { config = load_config(args.at("config").get<std::string>()); });
  const auto warmup = args.at("warmup").get<int64_t>(), steps = args.at("steps").get<int64_t>();
  // The same set-up as run_training (train/train_command.cpp), driven by Trainer::step().
  TrainOptions options;
  options.checkpoints = options.metrics_log = options.evaluate = false;
  options.device = prepare_device(ctx);
  auto comm = make_communicator(ctx, config, options.device);
  auto source = make_streaming_source(ctx.comm(), config, options.device);
  Trainer trainer(config, *comm, ctx.comm(), *source, options);
  run_steps(trainer, warmup);
  const Timed timed = run_steps(trainer, steps);
  TS_CHECK(timed.last_step == warmup + steps, "bench train: {} steps done, {} expected", timed.last_step,
           warmup + steps);
  const Checked checked = verify(ctx.comm(), trainer, *source, config, options.device, timed);
  nlohmann::json j = report_json(ctx, config, *source, timed, checked);
  j["warmup_steps"] = warmup;
  if (args.value("gemm", false)) j["gemm"] = gemm_reference(ctx.comm(), {512, 1024}, 5, 4);
  if (ctx.is_root()) write_file_atomically(args.at("report").get<std::string>(), j.dump(2) + "\n");
  return 0;
}

}  // namespace tickstream
