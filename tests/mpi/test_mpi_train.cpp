// Data-parallel training at 1, 2, 3 ranks: DDP equivalence with one rank on the combined batch,
// identical parameters on every rank, and the in-memory source's shard plan (coverage, steps).
#include <fmt/format.h>

#include <numeric>
#include <vector>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "data/feature_rows.hpp"
#include "data/window_index.hpp"
#include "features/pipeline.hpp"
#include "mpi/mpi_test.hpp"
#include "store/synth_run.hpp"
#include "train/batch_source.hpp"
#include "train/trainer.hpp"

namespace tickstream {
namespace {

using MpiTrain = testing::MpiTest;

constexpr int64_t kGlobalBatch = 12;  // divisible by 1, 2 and 3 ranks
constexpr int64_t kSteps = 6, kSeq = 8, kFeatures = 5;

// Global batch g is kGlobalBatch fixed random windows; rank r of W gets the r-th of W equal parts.
class SliceSource final : public BatchSource {
 public:
  SliceSource(int rank, int ranks) : rank_(rank), ranks_(ranks) {
    torch::Generator gen = at::detail::createCPUGenerator(99);
    x_ = torch::randn({kSteps * kGlobalBatch, kSeq, kFeatures}, gen);
    y_ = torch::randn({kSteps * kGlobalBatch}, gen) * 0.1 + x_.select(1, kSeq - 1).select(1, 0) * 0.05;
  }
  int64_t features() const override { return kFeatures; }
  int64_t steps_per_epoch() const override { return kSteps; }
  int64_t train_samples() const override { return kSteps * kGlobalBatch / ranks_; }
  Batch train_batch(int64_t, int64_t step) override {
    const int64_t per = kGlobalBatch / ranks_, begin = step * kGlobalBatch + rank_ * per;
    Batch b;
    b.x = x_.narrow(0, begin, per).contiguous();
    b.y_return = y_.narrow(0, begin, per).contiguous();
    b.y_up = (b.y_return > 0).to(torch::kFloat32);
    b.dates.assign(static_cast<size_t>(per), 0);
    return b;
  }
  int64_t validation_batches() const override { return 0; }
  Batch validation_batch(int64_t) override { return {}; }
  double label_scale() const override { return 0.1; }
  std::string describe() const override { return "slices"; }

 private:
  int rank_, ranks_;
  torch::Tensor x_, y_;
};

Config tiny_config(int64_t per_rank_batch, const std::string& kind) {
  return parse_config(fmt::format(
      "[data]\nstore = \"unused.h5\"\n[model]\nkind = \"{}\"\nd_model = 16\nn_layers = 2\nn_heads = 2\nseq_len = {}\ndropout = 0.0\n"
      "[train]\nbatch_size = {}\nepochs = 1\nlr = 1e-3\nwarmup_steps = 2\nweight_decay = 0.01\n"
      "clip = 0.5\nseed = 7\n[dist]\nbucket_mb = 0.004\ncheck_every = 2\n",
      kind, kSeq, per_rank_batch), "tiny.toml");
}

TrainOptions quiet_options() {
  TrainOptions o;
  o.checkpoints = false;
  o.metrics_log = false;
  o.evaluate = false;
  return o;
}

std::vector<torch::Tensor> train_and_get_parameters(const Config& c, comm::Communicator& comm, MPI_Comm control,
                                                    BatchSource& source) {
  Trainer trainer(c, comm, control, source, quiet_options());
  const TrainReport r = trainer.run();
  EXPECT_EQ(r.step, kSteps);
  std::vector<torch::Tensor> out;
  for (const auto& p : trainer.model().parameters()) out.push_back(p.detach().clone());
  return out;
}

class DdpEquivalence : public MpiTrain, public ::testing::WithParamInterface<std::string> {};

// W ranks x batch 12/W for K steps == 1 rank x batch 12 on the same samples (buckets of ~1K floats
// so several buckets are in flight; gradient clipping and AdamW see the averaged gradient).
TEST_P(DdpEquivalence, SameParametersAsOneRankOnTheCombinedBatch) {
  const int W = size();
  auto comm = comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
  SliceSource mine(rank(), W);
  const auto ddp = train_and_get_parameters(tiny_config(kGlobalBatch / W, GetParam()), *comm, MPI_COMM_WORLD, mine);
  auto fake = comm::make_fake_communicator(comm::CommOptions{});
  SliceSource all(0, 1);
  const auto ref = train_and_get_parameters(tiny_config(kGlobalBatch, GetParam()), *fake, MPI_COMM_SELF, all);
  ASSERT_EQ(ddp.size(), ref.size());
  double worst = 0, moved = 0;
  for (size_t k = 0; k < ref.size(); ++k) worst = std::max(worst, (ddp[k] - ref[k]).abs().max().item<double>());
  auto init = make_model(tiny_config(kGlobalBatch, GetParam()).model, kFeatures, 7)->parameters();
  for (size_t k = 0; k < ref.size(); ++k) moved = std::max(moved, (ref[k] - init[k]).abs().max().item<double>());
  EXPECT_LE(worst, 1e-5) << "largest parameter difference after " << kSteps << " steps at " << W << " ranks";
  EXPECT_GT(moved, 1e-3) << "training did not move the parameters: the comparison would be vacuous";
}

INSTANTIATE_TEST_SUITE_P(Models, DdpEquivalence, ::testing::Values("gpt", "lstm", "mlp"));

// The in-memory source: every training window of the store is on exactly one rank, and every rank
// runs the same number of steps per epoch (enough for the largest shard).
TEST_F(MpiTrain, InMemorySourceCoversEveryWindowOnceWithEqualSteps) {
  const std::string store = temp_dir() + "/s.h5";
  SynthSpec spec;
  spec.tickers = 23, spec.days = 400, spec.seed = 5;
  run_synth(comm(), spec, {"", store, 16, 4096});
  Config c = parse_config(fmt::format("[data]\nstore = \"{}\"\ntrain_start = 2010-01-04\ntrain_end = 2010-12-31\n"
                                      "valid_start = 2011-01-03\nvalid_end = 2011-06-30\n[model]\nseq_len = 16\n"
                                      "[train]\nbatch_size = 64\n", store), "job.toml");
  run_features(comm(), c, false);
  auto source = make_in_memory_source(comm(), c);
  const int64_t mine = source->train_samples();
  int64_t total = 0, most = 0, steps_min = 0, steps_max = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_INT64_T, MPI_SUM, comm());
  MPI_Allreduce(&mine, &most, 1, MPI_INT64_T, MPI_MAX, comm());
  const int64_t steps = source->steps_per_epoch();
  MPI_Allreduce(&steps, &steps_min, 1, MPI_INT64_T, MPI_MIN, comm());
  MPI_Allreduce(&steps, &steps_max, 1, MPI_INT64_T, MPI_MAX, comm());
  const StoreReader reader(store);
  const FeatureStoreInfo info = read_feature_info(reader);
  const ValidityMasks m = read_validity(reader);
  const WindowRule rule{16, info.horizon, period_bars(info.time, c.data.train_start, c.data.train_end)};
  const auto counts = count_windows(m.features, m.labels, m.tickers, m.bars, rule);
  EXPECT_EQ(total, std::accumulate(counts.begin(), counts.end(), int64_t{0}));
  EXPECT_GT(total, 0);
  EXPECT_EQ(steps_min, steps_max);
  EXPECT_EQ(steps, (most + 63) / 64);
  const Batch b = source->train_batch(0, steps - 1);  // the last step re-draws on small shards
  EXPECT_EQ(b.size(), 64);
  EXPECT_TRUE(torch::isfinite(b.x).all().item<bool>());
  EXPECT_LE(b.x.abs().max().item<float>(), 10.0f);
}

}  // namespace
}  // namespace tickstream
