// GPT-style causal transformer: attention by hand (matmul, masked_fill, softmax), pre-LN blocks.
#include "model/gpt.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace tickstream {

namespace nn = torch::nn;

CausalSelfAttentionImpl::CausalSelfAttentionImpl(int64_t d_model, int64_t n_heads, double dropout)
    : n_heads_(n_heads) {
  TS_CHECK(n_heads > 0 && d_model % n_heads == 0,
           "attention: d_model {} not divisible by n_heads {}", d_model, n_heads);
  qkv_ = register_module("qkv", nn::Linear(d_model, 3 * d_model));
  resid_proj_ = register_module("resid_proj", nn::Linear(d_model, d_model));
  attn_drop_ = register_module("attn_drop", nn::Dropout(dropout));
  resid_drop_ = register_module("resid_drop", nn::Dropout(dropout));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t batch = x.size(0), steps = x.size(1), d_model = x.size(2);
  const int64_t head_dim = d_model / n_heads_;
  // [B, T, 3d] -> three [B, H, T, hd]
  const auto qkv =
      qkv_->forward(x).view({batch, steps, 3, n_heads_, head_dim}).permute({2, 0, 3, 1, 4});
  // Scaling q (B*H*T*hd values) instead of the scores (B*H*T*T) is the same product, cheaper.
  const auto q = qkv[0] * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  const auto k = qkv[1], v = qkv[2];
  auto scores = torch::matmul(q, k.transpose(-2, -1));  // [B, H, T, T]
  scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  const auto probs = attn_drop_->forward(torch::softmax(scores, -1));
  const auto y = torch::matmul(probs, v).transpose(1, 2).reshape({batch, steps, d_model});
  return resid_drop_->forward(resid_proj_->forward(y));
}

GptBlockImpl::GptBlockImpl(int64_t d_model, int64_t n_heads, double dropout) {
  ln1_ = register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  attn_ = register_module("attn", CausalSelfAttention(d_model, n_heads, dropout));
  ln2_ = register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({d_model})));
  fc_ = register_module("fc", nn::Linear(d_model, 4 * d_model));
  resid_proj_ = register_module("resid_proj", nn::Linear(4 * d_model, d_model));
  mlp_drop_ = register_module("mlp_drop", nn::Dropout(dropout));
}

torch::Tensor GptBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto h = x + attn_->forward(ln1_->forward(x), mask);
  return h + mlp_drop_->forward(resid_proj_->forward(torch::gelu(fc_->forward(ln2_->forward(h)))));
}

std::vector<torch::Tensor> GptBlockImpl::residual_projection_weights() const {
  return {attn_->resid_proj_weight(), resid_proj_->weight};
}

GptImpl::GptImpl(const Config::Model& config, int64_t n_features)
    : n_features_(n_features), seq_len_(config.seq_len) {
  const int64_t d = config.d_model;
  input_proj_ = register_module("input_proj", nn::Linear(n_features, d));
  pos_emb_ = register_parameter("pos_emb", torch::zeros({seq_len_, d}));
  causal_mask_ = register_buffer(
      "causal_mask", torch::triu(torch::ones({seq_len_, seq_len_}, torch::kBool), /*diagonal=*/1));
  block_list_ = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < config.n_layers; ++i) {
    blocks_.emplace_back(d, config.n_heads, config.dropout);
    block_list_->push_back(blocks_.back());
  }
  ln_f_ = register_module("ln_f", nn::LayerNorm(nn::LayerNormOptions({d})));
  head_return_ = register_module("head_return", nn::Linear(d, 1));
  head_dir_ = register_module("head_dir", nn::Linear(d, 1));
}

torch::Tensor GptImpl::forward_all(const torch::Tensor& x) {
  check_window_shape(x, n_features_, seq_len_);
  const int64_t steps = x.size(1);
  auto h = input_proj_->forward(x) + pos_emb_.narrow(0, 0, steps);
  const auto mask = causal_mask_.narrow(0, 0, steps).narrow(1, 0, steps);
  for (auto& block : blocks_) h = block->forward(h, mask);
  return ln_f_->forward(h);
}

ModelOutput GptImpl::forward(const torch::Tensor& x) {
  const auto last = forward_all(x).select(1, x.size(1) - 1);  // [B, d]
  return {head_return_->forward(last).squeeze(-1), head_dir_->forward(last).squeeze(-1)};
}

std::vector<torch::Tensor> GptImpl::residual_projection_weights() const {
  std::vector<torch::Tensor> out;
  for (const auto& block : blocks_) {
    for (auto& w : block->residual_projection_weights()) out.push_back(w);
  }
  return out;
}

}  // namespace tickstream
