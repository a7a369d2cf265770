// Autocast scope and the precision check.
#include "train/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.hpp"

namespace tickstream {

void check_precision(const std::string& precision, torch::Device device) {
  if (precision != "bf16") return;
  TS_REQUIRE_INPUT(at::autocast::is_autocast_available(device.type()),
                   "[train] precision = \"bf16\": libtorch {} has no autocast for {}; use \"fp32\"",
                   TORCH_VERSION, device.str());
}

AutocastScope::AutocastScope(bool bf16, torch::Device device) : active_(bf16), type_(device.type()) {
  if (!active_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  was_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_dtype(type_, at::kBFloat16);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The cast-weight cache lives for the outermost scope only, as in torch.autocast.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, was_dtype_);
}

}  // namespace tickstream
