// Sequence models (GPT-style causal transformer, LSTM, MLP baseline) behind one interface.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/config.hpp"

namespace tickstream {

// Outputs for a batch x [B, T, F] (normalized features, T = seq_len): the prediction is made at
// the last bar of each window.
struct ModelOutput {
  torch::Tensor pred_return;  // [B] predicted forward log return (label 0, fwd_logret_<H>)
  torch::Tensor dir_logit;    // [B] logit of P(forward return > 0) (label 1, fwd_up_<H>)
};

// P(up) = sigmoid(dir_logit); confidence = |2 P(up) - 1| in [0, 1].
torch::Tensor direction_probability(const torch::Tensor& dir_logit);
torch::Tensor confidence_from_probability(const torch::Tensor& prob_up);

class SequenceModelImpl : public torch::nn::Module {
 public:
  virtual ModelOutput forward(const torch::Tensor& x) = 0;
  virtual std::string kind() const = 0;
};

// Builds the model `[model]` describes for `n_features` inputs. Parameters are created in a fixed
// order (the gradient bucket order) and initialized from `seed` only. InputError (naming the key)
// when the shape is inconsistent, e.g. d_model not divisible by n_heads.
std::shared_ptr<SequenceModelImpl> make_model(const Config::Model& config, int64_t n_features,
                                              uint64_t seed);

// Checks that x is a [B, T, n_features] batch of windows with 1 <= T <= seq_len (shorter windows
// are allowed); InputError naming [model] seq_len otherwise. Every model's forward calls it.
void check_window_shape(const torch::Tensor& x, int64_t n_features, int64_t seq_len);

// Multiply-accumulate FLOPs of one forward pass for one window (2 per MAC), for FLOP/s reports.
double forward_flops_per_sample(const Config::Model& config, int64_t n_features);

}  // namespace tickstream
