// `tickstream train`: placement, communicator, in-memory batch source, Trainer, summary.
#include "train/train_command.hpp"

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "data/feature_store.hpp"
#include "model/memory_fit.hpp"
#include "runtime/device_info.hpp"
#include "store/store_reader.hpp"
#include "train/streaming_source.hpp"

namespace tickstream {

std::unique_ptr<comm::Communicator> make_communicator(RankContext& ctx, const Config& config,
                                                      const torch::Device& device) {
#ifdef TICKSTREAM_WITH_CUDA
  constexpr bool nccl_built = true;
#else
  constexpr bool nccl_built = false;
#endif
  comm::CommOptions options;
  options.timeout = std::chrono::seconds(config.dist.timeout_s);
  const std::string backend = comm::resolve_backend(config.dist.backend, device.is_cuda(), nccl_built);
  if (backend == "nccl") return comm::make_nccl_communicator(ctx.comm(), device.index(), options);
  return ctx.make_communicator(options);
}

namespace {

constexpr int64_t kMaxAutoTrainBatch = 8192;

// [train] batch_size = "auto": on a GPU the largest power of two (at most kMaxAutoTrainBatch)
// whose training activations fit half the device's free memory, the smallest over the ranks so
// that every rank steps the same batch; on the CPU the default batch.
int64_t auto_train_batch(comm::Communicator& control, const Config& c, const torch::Device& device) {
  int64_t batch = Config::Train{}.batch_size;
  if (device.is_cuda()) {
    const int64_t features = read_feature_info(StoreReader(c.data.store)).features();
    batch = largest_fitting_batch(training_activation_bytes(c.model, features),
                                  static_cast<double>(device_free_bytes(device.index())), kMaxAutoTrainBatch);
  }
  batch = comm::allreduce(control, batch, comm::ReduceOp::min);
  if (control.rank() == 0)
    spdlog::info("train: batch_size \"auto\" = {} windows per rank ({})", batch,
                 device.is_cuda() ? "the largest power of two whose activations fit half the free device memory"
                                  : "the default on the CPU");
  return batch;
}

}  // namespace

TrainReport run_training(RankContext& ctx, const Config& requested, TrainOptions options) {
  options.device = prepare_device(ctx);
  comm::CommOptions control_options;  // small host collectives (metrics, stop signals, checks)
  control_options.timeout = std::chrono::seconds(requested.dist.timeout_s);
  auto control = ctx.make_communicator(control_options);
  Config config = requested;
  if (config.train.batch_size == 0) config.train.batch_size = auto_train_batch(*control, config, options.device);
  auto comm = make_communicator(ctx, config, options.device);
  auto source = make_streaming_source(*control, config, options.device, options.normalization);
  spdlog::info("train: {} ranks, backend {}, device {}, {} threads/rank; rank 0 {}", ctx.size(), comm->backend(),
               options.device.str(), ctx.placement().cpu_threads, source->describe());
  Trainer trainer(config, *comm, *control, *source, options);
  return trainer.run();
}

int train_command(RankContext& ctx, const nlohmann::json& args) {
  Config config;
  run_agreed(ctx.comm(), [&] {
    config = load_config(args.at("config").get<std::string>(), args.at("set").get<std::vector<std::string>>());
  });
  spdlog::info("train: resolved config {}", config.to_json().dump());
  TrainOptions options;
  options.resume = args.value("resume", false);
  options.stop_after = args.value("stop_after", int64_t{0});
  const TrainReport r = run_training(ctx, config, options);
  if (ctx.is_root()) {
    fmt::print("train: {} after {} steps ({} this run, {:.1f} s, {:.0f} samples/s, {:.1f}% waiting on "
               "communication)\n", r.stop_reason, r.step, r.steps_this_run, r.wall_s, r.samples_per_s,
               r.step_s > 0 ? 100.0 * r.comm_wait_s / r.step_s : 0.0);
    if (r.evaluated)
      fmt::print("train: validation loss {:.5f}  IC {:.4f}  rank IC {:.4f}  ICIR {:.3f}  direction accuracy {:.4f}\n",
                 r.val_loss, r.val.ic, r.val.rank_ic, r.val.icir, r.val.dir_acc);
    if (!r.checkpoint.empty()) fmt::print("train: checkpoint {}\n", r.checkpoint);
    fmt::print("train: parameters fnv1a {:016x}\n", r.parameters_fnv1a);
    fmt::print("train: metrics {}\n", config.train.metrics);
  }
  return 0;
}

}  // namespace tickstream
