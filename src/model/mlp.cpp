// MLP baseline on the flattened [seq_len * F] window: Linear -> GELU -> Dropout, n_layers times.
#include "model/mlp.hpp"

namespace tickstream {

namespace nn = torch::nn;

MlpImpl::MlpImpl(const Config::Model& config, int64_t n_features)
    : n_features_(n_features), seq_len_(config.seq_len) {
  const int64_t d = config.d_model;
  hidden_ = register_module("hidden", nn::Sequential());
  int64_t in = seq_len_ * n_features;
  for (int64_t i = 0; i < config.n_layers; ++i) {
    hidden_->push_back(nn::Linear(in, d));
    hidden_->push_back(nn::GELU());
    hidden_->push_back(nn::Dropout(config.dropout));
    in = d;
  }
  head_return_ = register_module("head_return", nn::Linear(d, 1));
  head_dir_ = register_module("head_dir", nn::Linear(d, 1));
}

ModelOutput MlpImpl::forward(const torch::Tensor& x) {
  check_window_shape(x, n_features_, seq_len_);
  auto window = x;
  if (x.size(1) < seq_len_) {
    // Pad spec runs from the last dim: (F left, F right, T left, T right).
    window = torch::constant_pad_nd(x, {0, 0, seq_len_ - x.size(1), 0}, 0.0);
  }
  const auto h = hidden_->forward(window.reshape({x.size(0), seq_len_ * n_features_}));
  return {head_return_->forward(h).squeeze(-1), head_dir_->forward(h).squeeze(-1)};
}

}  // namespace tickstream
