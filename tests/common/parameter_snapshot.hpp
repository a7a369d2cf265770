// Copies of a module's parameters and a bit-exact comparison of two such copies (checkpoint tests).
#pragma once

#include <torch/torch.h>

#include <cstring>
#include <vector>

namespace tickstream::testing {

inline std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

// Same count, shapes, devices and bytes (CPU tensors).
inline bool bitwise_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_cpu() || !b[i].is_cpu()) return false;
    const torch::Tensor x = a[i].contiguous(), y = b[i].contiguous();
    if (x.sizes() != y.sizes() || std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) != 0) return false;
  }
  return true;
}

}  // namespace tickstream::testing
