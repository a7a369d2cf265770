// MLP baseline: the flattened window through n_layers GELU hidden layers into the two heads.
#pragma once

#include <torch/torch.h>

#include <string>

#include "model/model.hpp"

namespace tickstream {

class MlpImpl : public SequenceModelImpl {
 public:
  MlpImpl(const Config::Model& config, int64_t n_features);
  // Windows shorter than seq_len are zero-padded on the left (the oldest bars).
  ModelOutput forward(const torch::Tensor& x) override;
  std::string kind() const override { return "mlp"; }

 private:
  int64_t n_features_, seq_len_;
  torch::nn::Sequential hidden_{nullptr};
  torch::nn::Linear head_return_{nullptr}, head_dir_{nullptr};
};

}  // namespace tickstream
