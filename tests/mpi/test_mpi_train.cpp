// Data-parallel training at 1, 2, 3 ranks: DDP equivalence with one rank on the combined batch,
// identical parameters on every rank, and the in-memory source's shard plan (coverage, steps).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "data/feature_store.hpp"
#include "data/window_index.hpp"
#include "features/pipeline.hpp"
#include "comm/mpi_native.hpp"
#include "mpi/mpi_test.hpp"
#include "store/synth_run.hpp"
#include "comm/collectives.hpp"
#include "train/batch_source.hpp"
#include "train/grad_sync.hpp"
#include "train/streaming_source.hpp"
#include "train/schedule.hpp"
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

std::vector<torch::Tensor> train_and_get_parameters(const Config& c, comm::Communicator& comm, comm::Communicator& control,
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
  const auto ddp = train_and_get_parameters(tiny_config(kGlobalBatch / W, GetParam()), *comm, tickstream::testing::world(), mine);
  auto fake = comm::make_fake_communicator(comm::CommOptions{});
  SliceSource all(0, 1);
  const auto ref = train_and_get_parameters(tiny_config(kGlobalBatch, GetParam()), *fake, tickstream::testing::self(), all);
  ASSERT_EQ(ddp.size(), ref.size());
  double worst = 0, moved = 0;
  for (size_t k = 0; k < ref.size(); ++k) worst = std::max(worst, (ddp[k] - ref[k]).abs().max().item<double>());
  auto init = make_model(tiny_config(kGlobalBatch, GetParam()).model, kFeatures, 7)->parameters();
  for (size_t k = 0; k < ref.size(); ++k) moved = std::max(moved, (ref[k] - init[k]).abs().max().item<double>());
  EXPECT_LE(worst, 1e-5) << "largest parameter difference after " << kSteps << " steps at " << W << " ranks";
  EXPECT_GT(moved, 1e-3) << "training did not move the parameters: the comparison would be vacuous";
}

INSTANTIATE_TEST_SUITE_P(Models, DdpEquivalence, ::testing::Values("gpt", "lstm", "mlp"));

// Trainer::step() K times is run() to K steps, bit for bit, at every rank count; each StepResult
// carries the data position, the schedule's learning rate and a finite loss.
TEST_F(MpiTrain, StepDrivesTheSameTrainingAsRun) {
  const int W = size();
  const Config c = tiny_config(kGlobalBatch / W, "gpt");
  auto comm_run = comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
  SliceSource run_source(rank(), W);
  Trainer by_run(c, *comm_run, tickstream::testing::world(), run_source, quiet_options());
  const TrainReport report = by_run.run();
  ASSERT_EQ(report.step, kSteps);
  auto comm_step = comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
  SliceSource step_source(rank(), W);
  Trainer by_step(c, *comm_step, tickstream::testing::world(), step_source, quiet_options());
  const LrSchedule schedule{c.train.lr, c.train.warmup_steps, kSteps};
  for (int64_t k = 0; k < kSteps; ++k) {
    const StepResult r = by_step.step();
    EXPECT_EQ(r.step, k + 1);
    EXPECT_EQ(r.epoch * step_source.steps_per_epoch() + r.step_in_epoch, k + 1);
    EXPECT_DOUBLE_EQ(r.lr, schedule.at(k));
    EXPECT_TRUE(std::isfinite(r.loss)) << "step " << k;
    EXPECT_GE(r.seconds, r.comm_wait_s);
  }
  EXPECT_EQ(by_step.parameters_fnv1a(), report.parameters_fnv1a);
}

// Three parameters: `a` serves the samples of type 0, `b` those of type 1, `c` none. The combined
// batch of 6 is of types 0 0 0 0 1 1, so at 2 ranks rank 0 gets no gradient for b; at 3 ranks
// ranks 0 and 1 get none for b and rank 2 none for a. c gets none anywhere.
struct UnevenParams {
  torch::Tensor a = torch::full({3}, 0.5).requires_grad_();
  torch::Tensor b = torch::full({3}, -0.25).requires_grad_();
  torch::Tensor c = torch::full({3}, 2.0).requires_grad_();
  std::vector<torch::Tensor> all() const { return {a, b, c}; }
};

// Mean squared error of samples [begin, end) of the combined batch.
torch::Tensor uneven_loss(const UnevenParams& p, int64_t begin, int64_t end) {
  torch::Tensor loss = torch::zeros({});
  for (int64_t i = begin; i < end; ++i) {
    const torch::Tensor x = torch::arange(1, 4, torch::kFloat32) * 0.1 * static_cast<double>(i + 1);
    const torch::Tensor& w = i < 4 ? p.a : p.b;
    loss = loss + (torch::dot(w, x) - (0.3 * static_cast<double>(i) - 0.5)).pow(2);
  }
  return loss / static_cast<double>(end - begin);
}

std::vector<torch::Tensor> uneven_steps(comm::Communicator& comm, int64_t begin, int64_t end, int64_t bucket_bytes) {
  UnevenParams p;
  torch::optim::AdamW opt(p.all(), torch::optim::AdamWOptions(0.05).weight_decay(0.1));
  GradSync sync(comm, p.all(), bucket_bytes);
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    sync.begin_step();
    uneven_loss(p, begin, end).backward();
    sync.end_step();
    EXPECT_FALSE(p.c.grad().defined()) << "no rank produced c's gradient: it must stay undefined";
    opt.step();
  }
  std::vector<torch::Tensor> out;
  for (const auto& t : p.all()) out.push_back(t.detach().clone());
  return out;
}

class UnusedParameters : public MpiTrain, public ::testing::WithParamInterface<int64_t> {};

// libtorch 2.x's zero_grad() leaves .grad undefined: a parameter without a gradient on some ranks
// gets the average over all (the others count as zero), one without a gradient anywhere is skipped
// by AdamW (its weight decay would move it if the gradient were a defined zero). K steps at W ranks
// equal one rank on the combined batch; buckets of one parameter each and of all three.
TEST_P(UnusedParameters, StepAsOneRankOnTheCombinedBatch) {
  const int W = size();
  const int64_t per = 6 / W;
  auto comm = comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
  const auto ddp = uneven_steps(*comm, rank() * per, (rank() + 1) * per, GetParam());
  auto fake = comm::make_fake_communicator(comm::CommOptions{});
  const auto ref = uneven_steps(*fake, 0, 6, GetParam());
  for (size_t k = 0; k < ref.size(); ++k)
    EXPECT_LE((ddp[k] - ref[k]).abs().max().item<double>(), 1e-6) << "parameter " << "abc"[k] << " at " << W << " ranks";
  EXPECT_TRUE(torch::equal(ddp[2], torch::full({3}, 2.0))) << "c moved without a gradient";
  EXPECT_GT((ref[1] - torch::full({3}, -0.25)).abs().max().item<double>(), 1e-3) << "b must train";
}

INSTANTIATE_TEST_SUITE_P(Buckets, UnusedParameters, ::testing::Values(int64_t{4}, int64_t{1} << 20));

// A synthetic store with features, made collectively; the config reads it.
Config streaming_job(const std::string& dir, const std::string& shard) {
  const std::string store = dir + "/s.h5";
  SynthSpec spec;
  spec.tickers = 23, spec.days = 400, spec.seed = 5;
  run_synth(tickstream::testing::world(), spec, {"", store, 16, 4096});
  Config c = parse_config(fmt::format("[data]\nstore = \"{}\"\nshard = \"{}\"\ntrain_start = 2010-01-04\n"
                                      "train_end = 2010-12-31\nvalid_start = 2011-01-03\nvalid_end = 2011-06-30\n"
                                      "[model]\nseq_len = 16\n[train]\nbatch_size = 64\n"
                                      "[loader]\nchunk_tickers = 4\nchunk_bars = 60\n", store, shard), "job.toml");
  run_features(tickstream::testing::world(), c, false);
  return c;
}

std::vector<Batch> epoch_batches(const Config& c, comm::Communicator& comm, int64_t epoch) {
  auto source = make_streaming_source(comm, c);
  std::vector<Batch> out;
  for (int64_t k = 0; k < source->steps_per_epoch(); ++k) out.push_back(source->train_batch(epoch, k));
  return out;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (!torch::equal(a[k].x, b[k].x) || !torch::equal(a[k].y_return, b[k].y_return) || a[k].dates != b[k].dates)
      return false;
  return true;
}

class StreamingModes : public MpiTrain, public ::testing::WithParamInterface<std::string> {};

// The batch sequence depends on (seed, epoch, rank) only: the same with prefetch 0, 1, 2, 4, with
// or without the chunk cache, resident or streamed; and a fresh source asked for a mid-epoch step
// (a resume) returns exactly that batch. Every rank runs the same number of steps.
TEST_P(StreamingModes, SameBatchesForEveryPrefetchCacheAndResidency) {
  Config c = streaming_job(temp_dir(), GetParam());
  c.loader.resident = "on";
  const auto reference = epoch_batches(c, comm(), 1);
  ASSERT_FALSE(reference.empty());
  c.loader.resident = "off";
  for (int64_t prefetch : {0, 1, 2, 4})
    for (int64_t cache_mb : {0, 64}) {
      c.loader.prefetch = prefetch, c.loader.cache_mb = cache_mb;
      EXPECT_TRUE(same_batches(epoch_batches(c, comm(), 1), reference)) << "prefetch " << prefetch << " cache " << cache_mb;
    }
  {  // one source at a time: HDF5 is not thread-safe here, and a source's loader thread reads it
    auto resumed = make_streaming_source(comm(), c);
    const size_t mid = reference.size() / 2;
    const Batch b = resumed->train_batch(1, static_cast<int64_t>(mid));
    EXPECT_TRUE(torch::equal(b.x, reference[mid].x)) << "mid-epoch restart";
  }
  EXPECT_FALSE(same_batches(epoch_batches(c, comm(), 2), reference)) << "epochs must differ";
  const auto steps = static_cast<int64_t>(reference.size());
  const int64_t lo = comm::allreduce(comm(), steps, comm::ReduceOp::min);
  const int64_t hi = comm::allreduce(comm(), steps, comm::ReduceOp::max);
  EXPECT_EQ(lo, hi);
}

// Every training window of the store is drawn in an epoch: the end bars over all ranks' batches
// (without the wrap-around re-draws) are exactly the store's training windows' end bars.
TEST_P(StreamingModes, EpochCoversEveryTrainingWindowOnce) {
  const Config c = streaming_job(temp_dir(), GetParam());
  auto source = make_streaming_source(comm(), c);
  std::vector<int32_t> mine;
  for (int64_t k = 0; k < source->steps_per_epoch(); ++k) {
    const Batch b = source->train_batch(0, k);
    mine.insert(mine.end(), b.dates.begin(), b.dates.end());
  }
  mine.resize(static_cast<size_t>(source->train_samples()));  // drop the re-draws
  EXPECT_TRUE(torch::isfinite(source->train_batch(0, 0).x).all().item<bool>());
  const auto all = comm::allgatherv(comm(), mine);
  const StoreReader reader(c.data.store);
  const FeatureStoreInfo info = read_feature_info(reader);
  const ValidityMasks m = read_validity(reader);
  std::vector<Window> expected;
  const WindowRule rule{16, info.horizon, period_bars(info.time, c.data.train_start, c.data.train_end),
                        window_slack(info)};  // the store's rule: skip (the default) windows step over halts
  for (int64_t r = 0; r < m.tickers; ++r)
    append_windows(m.features.data() + r * m.bars, m.labels.data() + r * m.bars, m.bars, static_cast<int32_t>(r), rule,
                   expected);
  std::vector<int32_t> ends;
  for (const Window& w : expected) ends.push_back(w.end);
  std::vector<int32_t> got = all;
  std::sort(got.begin(), got.end());
  std::sort(ends.begin(), ends.end());
  EXPECT_EQ(got, ends);
}

INSTANTIATE_TEST_SUITE_P(Shards, StreamingModes, ::testing::Values("tickers", "time"));

}  // namespace
}  // namespace tickstream
