// LSTM sequence model: stacked batch-first LSTM, last step -> LayerNorm -> the two heads.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/model.hpp"

namespace tickstream {

class LstmImpl : public SequenceModelImpl {
 public:
  LstmImpl(const Config::Model& config, int64_t n_features);
  ModelOutput forward(const torch::Tensor& x) override;
  std::string kind() const override { return "lstm"; }

 private:
  int64_t n_features_, seq_len_;
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_return_{nullptr}, head_dir_{nullptr};
};

}  // namespace tickstream
