// Mixed precision for training: [train] precision = "fp32" | "bf16".
#pragma once

#include <torch/torch.h>

#include <string>

namespace tickstream {

// InputError naming [train] precision when `precision` cannot run on `device` (bf16 needs
// autocast for that device type in this libtorch; CUDA and CPU have it in 2.x).
void check_precision(const std::string& precision, torch::Device device);

// While alive, ops on `device` run under autocast to bfloat16 when `bf16` (matrix products in
// bf16, reductions and norms in float32), nothing changes otherwise. Parameters, gradients, their
// allreduce, the loss and the optimizer stay float32; bf16 keeps float32's exponent range, so no
// loss scaling is needed. Restores the previous autocast state on exit.
class AutocastScope {
 public:
  AutocastScope(bool bf16, torch::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

}  // namespace tickstream
