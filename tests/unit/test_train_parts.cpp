// Training parts: LR schedule, checkpoints, loss, optimizer groups, single-rank gradient sync.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "model/model.hpp"
#include "model/checkpoint.hpp"
#include "train/grad_sync.hpp"
#include "train/schedule.hpp"
#include "train/train_step.hpp"
#include "common/parameter_snapshot.hpp"
#include "common/temp_dir_test.hpp"

namespace fs = std::filesystem;

namespace tickstream {
namespace {

constexpr int64_t kFeatures = 3;

// ---------------------------------------------------------------------------------------------
// Schedule

TEST(LrSchedule, ClosedFormPoints) {
  const LrSchedule s{1e-3, 10, 110, 0.1};
  const double floor = 1e-4;
  EXPECT_DOUBLE_EQ(s.at(0), 1e-4);         // peak * 1 / 10
  EXPECT_DOUBLE_EQ(s.at(4), 5e-4);         // peak * 5 / 10
  EXPECT_DOUBLE_EQ(s.at(9), 1e-3);         // warmup - 1: the peak
  EXPECT_DOUBLE_EQ(s.at(10), 1e-3);        // warmup: progress 0
  EXPECT_DOUBLE_EQ(s.at(35), floor + (1e-3 - floor) * 0.5 * (1.0 + std::sqrt(0.5)));  // progress 1/4
  EXPECT_DOUBLE_EQ(s.at(60), 5.5e-4);      // middle: (peak + floor) / 2
  EXPECT_DOUBLE_EQ(s.at(85), floor + (1e-3 - floor) * 0.5 * (1.0 - std::sqrt(0.5)));  // progress 3/4
  EXPECT_DOUBLE_EQ(s.at(110), floor);      // end
  EXPECT_DOUBLE_EQ(s.at(111), floor);      // beyond the end
  EXPECT_DOUBLE_EQ(s.at(100000), floor);
}

TEST(LrSchedule, NoWarmupStartsAtThePeakAndDecaysMonotonically) {
  const LrSchedule s{2e-3, 0, 50, 0.25};
  EXPECT_DOUBLE_EQ(s.at(0), 2e-3);
  EXPECT_DOUBLE_EQ(s.at(25), 0.5e-3 + 1.5e-3 * 0.5);
  EXPECT_DOUBLE_EQ(s.at(50), 0.5e-3);
  for (int64_t t = 1; t <= 60; ++t) EXPECT_LE(s.at(t), s.at(t - 1)) << t;
}

// ---------------------------------------------------------------------------------------------
// Loss and optimizer

TEST(TrainingLoss, ClosedForm) {
  ModelOutput out;
  out.pred_return = torch::tensor({0.5f, -1.0f});
  out.dir_logit = torch::tensor({0.0f, static_cast<float>(std::log(3.0))});
  Batch batch;
  batch.y_return = torch::tensor({2.0f, -2.0f});  // / label_scale 2 -> {1, -1}
  batch.y_up = torch::tensor({1.0f, 0.0f});
  const LossParts l = training_loss(out, batch, /*label_scale=*/2.0, /*label_weight=*/0.25);
  const double mse = (0.25 + 0.0) / 2.0;
  // -log(sigmoid(0)) = log 2; -log(1 - sigmoid(log 3)) = -log(1/4) = 2 log 2.
  const double bce = 1.5 * std::log(2.0);
  EXPECT_NEAR(l.mse.item<double>(), mse, 1e-7);
  EXPECT_NEAR(l.bce.item<double>(), bce, 1e-6);
  EXPECT_NEAR(l.total.item<double>(), 0.75 * mse + 0.25 * bce, 1e-6);
  // label_weight 0 and 1 select one part.
  EXPECT_NEAR(training_loss(out, batch, 2.0, 0.0).total.item<double>(), mse, 1e-7);
  EXPECT_NEAR(training_loss(out, batch, 2.0, 1.0).total.item<double>(), bce, 1e-6);
}

Config tiny_config(const std::string& kind) {
  Config c;
  c.model.kind = kind;
  c.model.d_model = 8;
  c.model.n_layers = 1;
  c.model.n_heads = 2;
  c.model.seq_len = 4;
  c.model.dropout = 0.1;  // dropout draws from the CPU generator: the RNG state matters on resume
  c.train.lr = 1e-2;
  c.train.weight_decay = 0.1;
  return c;
}

TEST(MakeOptimizer, DecayOnlyOnMatrices) {
  for (const std::string kind : {"gpt", "mlp", "lstm"}) {
    const Config c = tiny_config(kind);
    auto model = make_model(c.model, kFeatures, 1);
    auto opt = make_optimizer(*model, c);
    ASSERT_EQ(opt->param_groups().size(), 2u) << kind;
    const auto& decay = opt->param_groups()[0];
    const auto& none = opt->param_groups()[1];
    std::set<const void*> in_groups;
    size_t matrices = 0;
    for (const auto& p : model->parameters()) matrices += p.dim() >= 2;
    EXPECT_EQ(decay.params().size(), matrices) << kind;
    EXPECT_EQ(decay.params().size() + none.params().size(), model->parameters().size()) << kind;
    EXPECT_FALSE(decay.params().empty()) << kind;
    EXPECT_FALSE(none.params().empty()) << kind;
    for (const auto& p : decay.params()) {
      EXPECT_GE(p.dim(), 2) << kind;
      in_groups.insert(p.unsafeGetTensorImpl());
    }
    for (const auto& p : none.params()) {
      EXPECT_LE(p.dim(), 1) << kind;
      in_groups.insert(p.unsafeGetTensorImpl());
    }
    for (const auto& p : model->parameters()) EXPECT_EQ(in_groups.count(p.unsafeGetTensorImpl()), 1u) << kind;
    const auto& od = static_cast<const torch::optim::AdamWOptions&>(decay.options());
    const auto& on = static_cast<const torch::optim::AdamWOptions&>(none.options());
    EXPECT_DOUBLE_EQ(od.weight_decay(), 0.1) << kind;
    EXPECT_DOUBLE_EQ(on.weight_decay(), 0.0) << kind;
    EXPECT_DOUBLE_EQ(od.lr(), 1e-2) << kind;
    EXPECT_DOUBLE_EQ(on.lr(), 1e-2) << kind;
  }
}

// ---------------------------------------------------------------------------------------------
// Gradient sync at one rank

torch::Tensor random_x(int64_t batch, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::empty({batch, 4, kFeatures}).normal_(0.0, 1.0, gen);
}

Batch make_batch(uint64_t seed) {
  Batch b;
  b.x = random_x(6, seed);
  auto gen = at::detail::createCPUGenerator(seed + 1000);
  b.y_return = torch::empty({6}).normal_(0.0, 1.0, gen);
  b.y_up = (b.y_return > 0).to(torch::kFloat32);
  b.dates.assign(6, 0);
  return b;
}

std::unique_ptr<comm::Communicator> one_rank() { return comm::make_fake_communicator(comm::CommOptions{}); }

TEST(GradSyncOneRank, EndStepLeavesGradientsUntouched) {
  const Config c = tiny_config("mlp");
  auto model = make_model(c.model, kFeatures, 3);
  model->eval();  // no dropout: the reference gradients come from the same graph
  auto comm = one_rank();
  GradSync sync(*comm, model->parameters(), 64);
  EXPECT_EQ(sync.stats().buckets, 0);
  EXPECT_EQ(sync.stats().bytes, 0);
  sync.broadcast_parameters();  // a no-op at one rank

  const Batch batch = make_batch(1);
  const LossParts loss = training_loss(model->forward(batch.x), batch, 1.0, 0.5);
  const auto params = model->parameters();
  const auto reference = torch::autograd::grad({loss.total}, params, {}, /*retain_graph=*/true);
  sync.begin_step();
  loss.total.backward();
  std::vector<torch::Tensor> grads;
  std::vector<const void*> storage;
  for (const auto& p : params) {
    ASSERT_TRUE(p.grad().defined());
    grads.push_back(p.grad().clone());
    storage.push_back(p.grad().data_ptr());
  }
  sync.end_step();
  for (size_t k = 0; k < params.size(); ++k) {
    EXPECT_TRUE(torch::equal(params[k].grad(), grads[k])) << k;
    EXPECT_TRUE(torch::equal(params[k].grad(), reference[k])) << k;
    EXPECT_EQ(params[k].grad().data_ptr(), storage[k]) << k;
  }
  EXPECT_EQ(sync.stats().steps, 0);
  EXPECT_EQ(sync.stats().wait_s, 0.0);
}

uint64_t checksum_by_hand(const std::vector<torch::Tensor>& params) {
  uint64_t h = kFnvOffset;
  for (const auto& p : params) {
    const torch::Tensor c = p.detach().contiguous();
    h = fnv1a(std::string_view(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes())), h);
  }
  return h;
}

TEST(GradSyncOneRank, ParameterChecksumFollowsTheParameters) {
  const Config c = tiny_config("gpt");
  auto model = make_model(c.model, kFeatures, 3);
  auto comm = one_rank();
  const auto params = model->parameters();
  GradSync sync(*comm, params, 1 << 20);
  const uint64_t before = sync.parameter_checksum();
  EXPECT_EQ(before, checksum_by_hand(params));
  EXPECT_EQ(sync.parameter_checksum(), before);  // stable

  torch::NoGradGuard no_grad;
  torch::Tensor last = params.back().view(-1);
  const float old = last[0].item<float>();
  last[0] = std::nextafter(old, 1e30f);  // one ulp
  const uint64_t changed = sync.parameter_checksum();
  EXPECT_NE(changed, before);
  EXPECT_EQ(changed, checksum_by_hand(params));
  last[0] = old;
  EXPECT_EQ(sync.parameter_checksum(), before);

  // A model with another seed has another checksum.
  auto other = make_model(c.model, kFeatures, 4);
  GradSync other_sync(*comm, other->parameters(), 1 << 20);
  EXPECT_NE(other_sync.parameter_checksum(), before);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

CheckpointState state_at(int64_t step) {
  CheckpointState s;
  s.step = step;
  s.epoch = 1;
  s.step_in_epoch = step % 7;
  s.steps_per_epoch = 7;
  s.world_size = 2;
  s.best_val_loss = 0.125;
  s.bad_evals = 3;
  s.wall_s = 12.5;
  s.label_scale = 0.02;
  s.n_features = kFeatures;
  s.feature_names = {"a", "b", "c"};
  s.feature_mean = {0.5, -1.0, 2.0};
  s.feature_std = {1.0, 2.0, 0.25};
  s.features_hash = "0123456789abcdef";
  s.config = nlohmann::json{{"model", {{"kind", "gpt"}}}};
  s.model_id = "gpt-abc-s" + std::to_string(step);
  return s;
}

class CheckpointTest : public testing::TempDirTest {
 protected:

  // A checkpoint of a tiny untrained model at `step`, keeping the newest `keep`.
  std::string save_tiny(int64_t step, int64_t keep) {
    const Config c = tiny_config("mlp");
    auto model = make_model(c.model, kFeatures, 1);
    auto opt = make_optimizer(*model, c);
    return save_checkpoint(dir_, *model, *opt, state_at(step), keep);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

};

using testing::bitwise_equal;
using testing::snapshot;

double step_once(SequenceModelImpl& model, torch::optim::AdamW& opt, GradSync& sync, uint64_t seed) {
  StepInputs in;
  in.lr = 1e-2;
  in.clip = 1.0;
  return train_step(model, opt, sync, make_batch(seed), in);
}

void round_trip(const std::string& dir, const std::string& kind) {
  SCOPED_TRACE(kind);
  const Config c = tiny_config(kind);
  auto comm = one_rank();
  auto a = make_model(c.model, kFeatures, 11);
  auto opt_a = make_optimizer(*a, c);
  GradSync sync_a(*comm, a->parameters(), 1 << 20);
  torch::manual_seed(5);
  step_once(*a, *opt_a, sync_a, 100);
  step_once(*a, *opt_a, sync_a, 101);

  const CheckpointState saved_state = state_at(2);
  const std::string pt = save_checkpoint(dir, *a, *opt_a, saved_state, 3);
  EXPECT_EQ(fs::path(pt).filename().string(), "ckpt-00000002.pt");
  EXPECT_TRUE(fs::exists(fs::path(pt).replace_extension(".json")));
  const std::vector<torch::Tensor> at_save = snapshot(*a);
  const torch::Tensor rand_after_save = torch::rand({8});

  // The original run goes on for two more steps (dropout draws from the CPU generator).
  step_once(*a, *opt_a, sync_a, 102);
  step_once(*a, *opt_a, sync_a, 103);
  const std::vector<torch::Tensor> continued = snapshot(*a);

  // A fresh model (another init) and optimizer, with the generator moved elsewhere.
  auto b = make_model(c.model, kFeatures, 99);
  auto opt_b = make_optimizer(*b, c);
  GradSync sync_b(*comm, b->parameters(), 1 << 20);
  ASSERT_FALSE(bitwise_equal(snapshot(*b), at_save));
  torch::manual_seed(777);
  const CheckpointState loaded = load_checkpoint(pt, *b, opt_b.get(), /*restore_rng=*/true, torch::kCPU);
  EXPECT_TRUE(bitwise_equal(snapshot(*b), at_save));
  EXPECT_TRUE(torch::equal(torch::rand({8}), rand_after_save));
  EXPECT_EQ(loaded.to_json(), saved_state.to_json());
  EXPECT_EQ(read_checkpoint_state(pt).to_json(), saved_state.to_json());

  step_once(*b, *opt_b, sync_b, 102);
  step_once(*b, *opt_b, sync_b, 103);
  EXPECT_TRUE(bitwise_equal(snapshot(*b), continued)) << "resumed training differs from the original";

  // Sensitivity: without the optimizer state (fresh Adam moments) the same two steps differ.
  auto d = make_model(c.model, kFeatures, 99);
  auto opt_d = make_optimizer(*d, c);
  GradSync sync_d(*comm, d->parameters(), 1 << 20);
  load_checkpoint(pt, *d, nullptr, /*restore_rng=*/true, torch::kCPU);
  EXPECT_TRUE(bitwise_equal(snapshot(*d), at_save));
  torch::rand({8});
  step_once(*d, *opt_d, sync_d, 102);
  step_once(*d, *opt_d, sync_d, 103);
  EXPECT_FALSE(bitwise_equal(snapshot(*d), continued));
}

TEST_F(CheckpointTest, RoundTripRestoresModelOptimizerAndRng) {
  round_trip((fs::path(dir_) / "gpt").string(), "gpt");
  round_trip((fs::path(dir_) / "mlp").string(), "mlp");
}

// Expects `fn` to throw an InputError whose message names `path` and contains `word`.
template <typename Fn>
void expect_input_error(Fn fn, const std::string& path, const std::string& word) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << path;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(word), std::string::npos) << what;
  }
}

TEST_F(CheckpointTest, TruncatedFileIsRejected) {
  const std::string pt = save_tiny(4, 3);
  EXPECT_NO_THROW(read_checkpoint_state(pt));
  fs::resize_file(pt, fs::file_size(pt) - 1);
  expect_input_error([&] { read_checkpoint_state(pt); }, pt, "truncated");
  const Config c = tiny_config("mlp");
  auto model = make_model(c.model, kFeatures, 1);
  expect_input_error([&] { load_checkpoint(pt, *model, nullptr, false, torch::kCPU); }, pt, "truncated");
}

TEST_F(CheckpointTest, FlippedByteIsRejected) {
  const std::string pt = save_tiny(4, 3);
  std::string bytes;
  {
    std::ifstream in(pt, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  {
    std::ofstream out(pt, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ASSERT_EQ(fs::file_size(pt), bytes.size());
  expect_input_error([&] { read_checkpoint_state(pt); }, pt, "corrupt");
  const Config c = tiny_config("mlp");
  auto model = make_model(c.model, kFeatures, 1);
  expect_input_error([&] { load_checkpoint(pt, *model, nullptr, false, torch::kCPU); }, pt, "corrupt");
}

TEST_F(CheckpointTest, MissingManifestIsAnIncompleteCheckpoint) {
  const std::string pt = save_tiny(4, 3);
  fs::remove(fs::path(pt).replace_extension(".json"));
  expect_input_error([&] { read_checkpoint_state(pt); }, pt, "incomplete");
}

TEST_F(CheckpointTest, PruningKeepsTheNewestK) {
  for (int64_t step = 1; step <= 5; ++step) save_tiny(step * 10, 2);
  EXPECT_EQ(names(), (std::vector<std::string>{"ckpt-00000040.json", "ckpt-00000040.pt",
                                               "ckpt-00000050.json", "ckpt-00000050.pt"}));
  save_tiny(60, 1);
  EXPECT_EQ(names(), (std::vector<std::string>{"ckpt-00000060.json", "ckpt-00000060.pt"}));
}

TEST_F(CheckpointTest, ResolveSkipsIncompleteCheckpoints) {
  EXPECT_EQ(resolve_checkpoint(dir_), std::nullopt);  // empty directory
  save_tiny(1, 5);
  const std::string second = save_tiny(2, 5);
  // A newer .pt whose manifest was never written (a crash between the two renames).
  std::ofstream((fs::path(dir_) / "ckpt-00000003.pt").string()) << "partial";
  // Unrelated files are ignored too.
  std::ofstream((fs::path(dir_) / "notes.txt").string()) << "x";
  const auto resolved = resolve_checkpoint(dir_);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(fs::path(*resolved), fs::path(second));
  EXPECT_EQ(read_checkpoint_state(*resolved).step, 2);
  // A file is returned as given.
  EXPECT_EQ(resolve_checkpoint(second), second);
  // A missing path is an error naming it.
  const std::string missing = (fs::path(dir_) / "ckpt-00000009.pt").string();
  expect_input_error([&] { resolve_checkpoint(missing); }, missing, "no such");
}

TEST_F(CheckpointTest, ResolveOnADirectoryWithOnlyIncompleteCheckpointsIsNothing) {
  std::ofstream((fs::path(dir_) / "ckpt-00000001.pt").string()) << "partial";
  EXPECT_EQ(resolve_checkpoint(dir_), std::nullopt);
}

}  // namespace
}  // namespace tickstream
