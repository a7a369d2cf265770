// GPT-style causal transformer over bar windows: pre-LN blocks, learned positions, two heads.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/model.hpp"

namespace tickstream {

// Causal multi-head self-attention written with matmul + masked_fill + softmax (no fused SDPA, so
// the same code builds against libtorch 1.13 and 2.x).
class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  CausalSelfAttentionImpl(int64_t d_model, int64_t n_heads, double dropout);
  // x [B, T, d]; mask [T, T] bool, true above the diagonal (future positions).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  torch::Tensor resid_proj_weight() const { return resid_proj_->weight; }

 private:
  int64_t n_heads_;
  torch::nn::Linear qkv_{nullptr}, resid_proj_{nullptr};
  torch::nn::Dropout attn_drop_{nullptr}, resid_drop_{nullptr};
};
TORCH_MODULE(CausalSelfAttention);

// x + attn(LN(x)), then x + MLP(LN(x)) with a 4*d GELU hidden layer.
class GptBlockImpl : public torch::nn::Module {
 public:
  GptBlockImpl(int64_t d_model, int64_t n_heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  // The two projections that write into the residual stream (scaled at init, GPT-2 style).
  std::vector<torch::Tensor> residual_projection_weights() const;

 private:
  torch::nn::LayerNorm ln1_{nullptr};
  CausalSelfAttention attn_{nullptr};
  torch::nn::LayerNorm ln2_{nullptr};
  torch::nn::Linear fc_{nullptr}, resid_proj_{nullptr};
  torch::nn::Dropout mlp_drop_{nullptr};
};
TORCH_MODULE(GptBlock);

class GptImpl : public SequenceModelImpl {
 public:
  GptImpl(const Config::Model& config, int64_t n_features);
  ModelOutput forward(const torch::Tensor& x) override;
  // Hidden states after the final LayerNorm for every position: [B, T, d_model].
  torch::Tensor forward_all(const torch::Tensor& x);
  std::string kind() const override { return "gpt"; }
  std::vector<torch::Tensor> residual_projection_weights() const;
  int64_t n_layers() const { return static_cast<int64_t>(blocks_.size()); }

 private:
  int64_t n_features_, seq_len_;
  torch::nn::Linear input_proj_{nullptr};
  torch::Tensor pos_emb_;      // [seq_len, d_model] parameter
  torch::Tensor causal_mask_;  // [seq_len, seq_len] bool buffer, true = masked
  torch::nn::ModuleList block_list_{nullptr};  // registers the blocks as blocks.0, blocks.1, ...
  std::vector<GptBlock> blocks_;              // the same blocks, typed
  torch::nn::LayerNorm ln_f_{nullptr};
  torch::nn::Linear head_return_{nullptr}, head_dir_{nullptr};
};

}  // namespace tickstream
