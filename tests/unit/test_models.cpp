// Sequence models: shapes, seed-only init, closed-form parameter and FLOP counts, gradients,
// dropout in eval, GPT causality, config errors, and a tiny GPT overfitting random data.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/gpt.hpp"
#include "model/model.hpp"

namespace tickstream {
namespace {

constexpr int64_t kFeatures = 5;

Config::Model small_config(const std::string& kind) {
  Config::Model c;
  c.kind = kind;
  c.d_model = 16;
  c.n_layers = 2;
  c.n_heads = 4;
  c.seq_len = 8;
  c.dropout = 0.1;
  return c;
}

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> all = {"gpt", "lstm", "mlp"};
  return all;
}

torch::Tensor random_batch(int64_t batch, int64_t steps, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::empty({batch, steps, kFeatures}).normal_(0.0, 1.0, gen);
}

bool same_parameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (pa[i].key() != pb[i].key() || !torch::equal(pa[i].value(), pb[i].value())) return false;
  }
  return true;
}

int64_t parameter_count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// Closed-form parameter counts, written out by hand per architecture.
int64_t expected_parameters(const Config::Model& c, int64_t f) {
  const int64_t d = c.d_model, l = c.n_layers, s = c.seq_len;
  const int64_t heads = 2 * (d + 1);
  if (c.kind == "gpt") {
    const int64_t block = 2 * d                  // ln1
                          + 3 * d * d + 3 * d    // qkv
                          + d * d + d            // attention output projection
                          + 2 * d                // ln2
                          + 4 * d * d + 4 * d    // MLP up
                          + 4 * d * d + d;       // MLP down
    return f * d + d + s * d + l * block + 2 * d + heads;
  }
  if (c.kind == "lstm") {
    const int64_t first = 4 * d * f + 4 * d * d + 8 * d;  // W_ih, W_hh, b_ih, b_hh
    const int64_t rest = 4 * d * d + 4 * d * d + 8 * d;
    return first + (l - 1) * rest + 2 * d + heads;  // + LayerNorm
  }
  return s * f * d + d + (l - 1) * (d * d + d) + heads;
}

TEST(Models, OutputShapesForFullAndShortWindows) {
  for (const auto& kind : kinds()) {
    auto model = make_model(small_config(kind), kFeatures, 1);
    EXPECT_EQ(model->kind(), kind);
    for (int64_t steps : {8, 3}) {
      const auto out = model->forward(random_batch(6, steps, 2));
      EXPECT_EQ(out.pred_return.sizes(), torch::IntArrayRef({6})) << kind << " T=" << steps;
      EXPECT_EQ(out.dir_logit.sizes(), torch::IntArrayRef({6})) << kind << " T=" << steps;
      EXPECT_TRUE(torch::isfinite(out.pred_return).all().item<bool>()) << kind;
    }
    EXPECT_THROW(model->forward(random_batch(2, 9, 2)), InputError) << kind;  // T > seq_len
    EXPECT_THROW(model->forward(torch::zeros({2, 4, kFeatures + 1})), InputError) << kind;
  }
}

TEST(Models, InitDependsOnSeedOnly) {
  for (const auto& kind : kinds()) {
    auto a = make_model(small_config(kind), kFeatures, 42);
    torch::manual_seed(7);  // the global RNG must not matter
    auto b = make_model(small_config(kind), kFeatures, 42);
    auto c = make_model(small_config(kind), kFeatures, 43);
    EXPECT_TRUE(same_parameters(*a, *b)) << kind;
    EXPECT_FALSE(same_parameters(*a, *c)) << kind;
  }
}

TEST(Models, InitFollowsGpt2Rules) {
  auto model = make_model(small_config("gpt"), kFeatures, 3);
  for (const auto& p : model->named_parameters()) {
    const auto& name = p.key();
    const auto& v = p.value();
    if (name.find("ln") != std::string::npos && name.size() >= 6 &&
        name.compare(name.size() - 6, 6, "weight") == 0) {
      EXPECT_TRUE(torch::equal(v, torch::ones_like(v))) << name;
    } else if (v.dim() == 1) {
      EXPECT_TRUE(torch::equal(v, torch::zeros_like(v))) << name;
    }
  }
  const auto std_of = [&](const std::string& name) {
    return model->named_parameters()[name].std().item<double>();
  };
  EXPECT_NEAR(std_of("blocks.0.fc.weight"), 0.02, 0.002);
  EXPECT_NEAR(std_of("pos_emb"), 0.02, 0.004);
  EXPECT_NEAR(std_of("blocks.1.resid_proj.weight"), 0.02 / std::sqrt(4.0), 0.001);
  EXPECT_NEAR(std_of("blocks.1.attn.resid_proj.weight"), 0.02 / std::sqrt(4.0), 0.002);
  // The causal mask is a buffer, not a parameter.
  EXPECT_EQ(model->named_buffers().size(), 1u);
  EXPECT_FALSE(model->named_parameters().contains("causal_mask"));
}

TEST(Models, LstmInitIsUniformInOneOverSqrtHidden) {
  auto model = make_model(small_config("lstm"), kFeatures, 3);
  const double bound = 1.0 / std::sqrt(16.0);
  const auto w = model->named_parameters()["lstm.weight_hh_l1"];
  EXPECT_LE(w.abs().max().item<double>(), bound);
  EXPECT_GT(w.abs().max().item<double>(), 0.9 * bound);
}

TEST(Models, ParameterCountsMatchClosedForm) {
  for (const auto& kind : kinds()) {
    for (int64_t layers : {1, 3}) {
      auto c = small_config(kind);
      c.n_layers = layers;
      auto model = make_model(c, kFeatures, 1);
      EXPECT_EQ(parameter_count(*model), expected_parameters(c, kFeatures))
          << kind << " L=" << layers;
    }
  }
  // Spot value for the default GPT (d 64, L 2, seq 64, F 20): 20*64+64 + 64*64 + 2*(12*64^2+13*64)
  // + 2*64 + 2*65 = 1344 + 4096 + 99968 + 258.
  auto c = Config::Model{};
  auto gpt = make_model(c, 20, 1);
  EXPECT_EQ(parameter_count(*gpt), 1344 + 4096 + 99968 + 128 + 130);
}

TEST(Models, GradientsReachEveryParameter) {
  for (const auto& kind : kinds()) {
    auto model = make_model(small_config(kind), kFeatures, 5);
    const auto out = model->forward(random_batch(4, 8, 6));
    (out.pred_return.pow(2).sum() + out.dir_logit.sum()).backward();
    for (const auto& p : model->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << kind << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << kind << " " << p.key();
    }
  }
}

TEST(Models, EvalModeIsDeterministicWithDropout) {
  for (const auto& kind : kinds()) {
    auto c = small_config(kind);
    c.dropout = 0.5;
    auto model = make_model(c, kFeatures, 8);
    const auto x = random_batch(8, 8, 9);
    model->train();
    const auto t1 = model->forward(x).pred_return, t2 = model->forward(x).pred_return;
    EXPECT_FALSE(torch::equal(t1, t2)) << kind << ": dropout inactive in train()";
    model->eval();
    const auto e1 = model->forward(x).pred_return, e2 = model->forward(x).pred_return;
    EXPECT_TRUE(torch::equal(e1, e2)) << kind;
  }
}

TEST(Models, GptIsCausal) {
  auto c = small_config("gpt");
  auto model = make_model(c, kFeatures, 10);
  model->eval();
  auto* gpt = dynamic_cast<GptImpl*>(model.get());
  ASSERT_NE(gpt, nullptr);
  const auto x = random_batch(3, 8, 11);
  const auto h = gpt->forward_all(x);
  ASSERT_EQ(h.sizes(), torch::IntArrayRef({3, 8, 16}));
  for (int64_t t = 0; t < 7; ++t) {
    auto changed = x.clone();
    changed.narrow(1, t + 1, 8 - t - 1).add_(5.0);
    const auto h2 = gpt->forward_all(changed);
    EXPECT_TRUE(torch::allclose(h.narrow(1, 0, t + 1), h2.narrow(1, 0, t + 1), 1e-6, 1e-6)) << t;
    EXPECT_FALSE(torch::allclose(h.select(1, t + 1), h2.select(1, t + 1), 1e-3, 1e-3)) << t;
  }
  // A short window sees the same positions: forward_all(x[:, :4]) == forward_all(x)[:, :4].
  EXPECT_TRUE(torch::allclose(gpt->forward_all(x.narrow(1, 0, 4)), h.narrow(1, 0, 4), 1e-5, 1e-5));
}

void expect_input_error(const Config::Model& c, const std::string& key) {
  try {
    make_model(c, kFeatures, 1);
    ADD_FAILURE() << "no InputError for " << key;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(Models, BadConfigIsInputErrorNamingTheKey) {
  auto c = small_config("gpt");
  c.n_heads = 3;
  expect_input_error(c, "[model] n_heads");
  c = small_config("rnn");
  expect_input_error(c, "[model] kind");
  for (int64_t bad : {0, -4}) {
    c = small_config("gpt");
    c.seq_len = bad;
    expect_input_error(c, "[model] seq_len");
  }
  c = small_config("lstm");
  c.d_model = 0;
  expect_input_error(c, "[model] d_model");
  EXPECT_THROW(forward_flops_per_sample(small_config("rnn"), kFeatures), InputError);
}

TEST(Models, FlopsMatchHandComputation) {
  Config::Model c;
  c.d_model = 4;
  c.n_layers = 1;
  c.n_heads = 2;
  c.seq_len = 3;
  const int64_t f = 2;
  // gpt, MACs: input 3*2*4 = 24; qkv 3*4*12 = 144; QK^T 3*3*4 = 36; PV 36; out proj 3*4*4 = 48;
  // MLP 3*4*16 + 3*16*4 = 384; heads 2*4 = 8. Total 680 MACs = 1360 FLOPs.
  c.kind = "gpt";
  EXPECT_DOUBLE_EQ(forward_flops_per_sample(c, f), 1360.0);
  // lstm, MACs: 3 steps * 16 gate rows * (2 + 4) = 288; heads 8. 296 MACs.
  c.kind = "lstm";
  EXPECT_DOUBLE_EQ(forward_flops_per_sample(c, f), 592.0);
  c.n_layers = 2;  // + 3 steps * 16 * (4 + 4) = 384 MACs
  EXPECT_DOUBLE_EQ(forward_flops_per_sample(c, f), 592.0 + 768.0);
  // mlp, MACs: (3*2)*4 + (4*4) + 8 = 48 (two hidden layers).
  c.kind = "mlp";
  EXPECT_DOUBLE_EQ(forward_flops_per_sample(c, f), 96.0);
}

TEST(Models, ProbabilityAndConfidence) {
  const auto logits = torch::tensor({-100.0f, 0.0f, std::log(3.0f)});
  const auto p = direction_probability(logits);
  EXPECT_TRUE(torch::allclose(p, torch::tensor({0.0f, 0.5f, 0.75f}), 1e-6, 1e-6));
  const auto conf = confidence_from_probability(p);
  EXPECT_TRUE(torch::allclose(conf, torch::tensor({1.0f, 0.0f, 0.5f}), 1e-6, 1e-6));
}

TEST(Models, TinyGptOverfitsRandomSamples) {
  torch::set_num_threads(1);
  auto c = small_config("gpt");
  c.dropout = 0.0;
  auto model = make_model(c, kFeatures, 12);
  const auto x = random_batch(64, 8, 13);
  auto gen = at::detail::createCPUGenerator(14);
  const auto y = torch::empty({64}).normal_(0.0, 1.0, gen);
  const auto up = (y > 0).to(torch::kFloat);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  const auto loss_of = [&]() {
    const auto out = model->forward(x);
    return torch::mse_loss(out.pred_return, y) +
           torch::binary_cross_entropy_with_logits(out.dir_logit, up);
  };
  const double first = loss_of().item<double>();
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    auto loss = loss_of();
    loss.backward();
    opt.step();
  }
  const double last = loss_of().item<double>();
  EXPECT_LT(last, 0.1 * first) << "first " << first << " last " << last;
}

}  // namespace
}  // namespace tickstream
