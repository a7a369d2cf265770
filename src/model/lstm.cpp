// LSTM sequence model: hidden state of the last bar through a LayerNorm into the two heads.
#include "model/lstm.hpp"

#include <tuple>

namespace tickstream {

namespace nn = torch::nn;

LstmImpl::LstmImpl(const Config::Model& config, int64_t n_features)
    : n_features_(n_features), seq_len_(config.seq_len) {
  const int64_t d = config.d_model;
  // Dropout applies between stacked layers only; libtorch warns when it is set for one layer.
  auto options = nn::LSTMOptions(n_features, d).num_layers(config.n_layers).batch_first(true);
  if (config.n_layers > 1) options.dropout(config.dropout);
  lstm_ = register_module("lstm", nn::LSTM(options));
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({d})));
  head_return_ = register_module("head_return", nn::Linear(d, 1));
  head_dir_ = register_module("head_dir", nn::Linear(d, 1));
}

ModelOutput LstmImpl::forward(const torch::Tensor& x) {
  check_window_shape(x, n_features_, seq_len_);
  const auto output = std::get<0>(lstm_->forward(x));  // [B, T, d]
  const auto last = norm_->forward(output.select(1, x.size(1) - 1));
  return {head_return_->forward(last).squeeze(-1), head_dir_->forward(last).squeeze(-1)};
}

}  // namespace tickstream
