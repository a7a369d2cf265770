// Model factory, seed-only deterministic initialization, probability helpers and FLOP counts.
#include "model/model.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "core/error.hpp"
#include "model/gpt.hpp"
#include "model/lstm.hpp"
#include "model/mlp.hpp"

namespace tickstream {

namespace {

constexpr double kInitStd = 0.02;  // GPT-2 normal init for Linear weights and the position table

void validate(const Config::Model& c, int64_t n_features) {
  TS_REQUIRE_INPUT(c.kind == "gpt" || c.kind == "lstm" || c.kind == "mlp",
                   "[model] kind: unknown model kind \"{}\" (expected gpt, lstm or mlp)", c.kind);
  TS_REQUIRE_INPUT(c.d_model > 0, "[model] d_model: must be > 0 (got {})", c.d_model);
  TS_REQUIRE_INPUT(c.n_layers > 0, "[model] n_layers: must be > 0 (got {})", c.n_layers);
  TS_REQUIRE_INPUT(c.seq_len > 0, "[model] seq_len: must be > 0 (got {})", c.seq_len);
  TS_REQUIRE_INPUT(c.dropout >= 0.0 && c.dropout < 1.0,
                   "[model] dropout: must be in [0, 1) (got {})", c.dropout);
  if (c.kind == "gpt") {
    TS_REQUIRE_INPUT(c.n_heads > 0, "[model] n_heads: must be > 0 (got {})", c.n_heads);
    TS_REQUIRE_INPUT(c.d_model % c.n_heads == 0,
                     "[model] d_model ({}) must be divisible by [model] n_heads ({})", c.d_model,
                     c.n_heads);
  }
  TS_REQUIRE_INPUT(n_features > 0, "the store has no feature columns (n_features = {})",
                   n_features);
}

// Initializes the parameters a module owns directly (not its children's), drawing from `gen`.
void init_own_parameters(torch::nn::Module& module, at::Generator& gen) {
  auto params = module.named_parameters(/*recurse=*/false);
  if (auto* lstm = module.as<torch::nn::LSTMImpl>()) {
    // PyTorch's LSTM default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(lstm->options.hidden_size()));
    for (auto& p : params) p.value().uniform_(-bound, bound, gen);
    return;
  }
  const bool layer_norm = module.as<torch::nn::LayerNormImpl>() != nullptr;
  for (auto& p : params) {
    const bool bias = p.key() == "bias" || p.value().dim() < 2;
    if (layer_norm && p.key() == "weight") {
      p.value().fill_(1.0);
    } else if (bias) {
      p.value().zero_();
    } else {
      p.value().normal_(0.0, kInitStd, gen);  // Linear weights, GPT position table
    }
  }
}

// Every parameter in registration order (as named_parameters() lists them), from `seed` only.
void initialize(SequenceModelImpl& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& module : model.modules(/*include_self=*/true)) init_own_parameters(*module, gen);
  if (auto* gpt = dynamic_cast<GptImpl*>(&model)) {
    // GPT-2: projections into the residual stream get std 0.02 / sqrt(2 * n_layers).
    const double scale = 1.0 / std::sqrt(2.0 * static_cast<double>(gpt->n_layers()));
    for (auto& w : gpt->residual_projection_weights()) w.mul_(scale);
  }
}

}  // namespace

torch::Tensor direction_probability(const torch::Tensor& dir_logit) {
  return torch::sigmoid(dir_logit);
}

torch::Tensor confidence_from_probability(const torch::Tensor& prob_up) {
  return (2.0 * prob_up - 1.0).abs();
}

void check_window_shape(const torch::Tensor& x, int64_t n_features, int64_t seq_len) {
  TS_REQUIRE_INPUT(x.dim() == 3 && x.size(2) == n_features,
                   "model input must be [batch, bars, {}] (got {})", n_features,
                   c10::str(x.sizes()));
  TS_REQUIRE_INPUT(x.size(1) >= 1 && x.size(1) <= seq_len,
                   "model input window of {} bars does not fit [model] seq_len = {}", x.size(1),
                   seq_len);
}

std::shared_ptr<SequenceModelImpl> make_model(const Config::Model& config, int64_t n_features,
                                              uint64_t seed) {
  validate(config, n_features);
  std::shared_ptr<SequenceModelImpl> model;
  if (config.kind == "gpt") {
    model = std::make_shared<GptImpl>(config, n_features);
  } else if (config.kind == "lstm") {
    model = std::make_shared<LstmImpl>(config, n_features);
  } else {
    model = std::make_shared<MlpImpl>(config, n_features);
  }
  initialize(*model, seed);
  return model;
}

// FLOPs = 2 x multiply-accumulates of the matrix products of one forward pass for one window
// (S = seq_len, F = n_features, d = d_model, L = n_layers); LayerNorm, softmax, GELU, bias adds
// and the LSTM gate nonlinearities are not counted.
//   gpt:  2*S*F*d                               input projection
//         + L * (2*S*d*3d + 2*S*S*d + 2*S*S*d   qkv, Q K^T, probs V (the full S x S, as computed)
//                + 2*S*d*d + 2*S*d*4d*2)        output projection, MLP up and down
//         + 2 * 2*d                             two heads on the last position
//       = 2*S*F*d + L*(24*S*d^2 + 4*S^2*d) + 4*d
//   lstm: S * 2*4d*(F + d) + (L-1) * S * 2*4d*(d + d) + 4*d
//   mlp:  2*(S*F*d + (L-1)*d*d) + 4*d
double forward_flops_per_sample(const Config::Model& config, int64_t n_features) {
  validate(config, n_features);
  const double s = static_cast<double>(config.seq_len), f = static_cast<double>(n_features);
  const double d = static_cast<double>(config.d_model), l = static_cast<double>(config.n_layers);
  const double heads = 4.0 * d;
  if (config.kind == "gpt") {
    return 2.0 * s * f * d + l * (24.0 * s * d * d + 4.0 * s * s * d) + heads;
  }
  if (config.kind == "lstm") return s * 8.0 * d * (f + d) + (l - 1.0) * s * 16.0 * d * d + heads;
  return 2.0 * (s * f * d + (l - 1.0) * d * d) + heads;
}

}  // namespace tickstream
