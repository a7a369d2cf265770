// Activation estimates per window and the batch that fits.
#include "model/memory_fit.hpp"

#include <algorithm>

namespace tickstream {

double inference_activation_bytes(const Config::Model& m, int64_t features) {
  const auto t = static_cast<double>(m.seq_len), d = static_cast<double>(m.d_model);
  return 4.0 * (t * (static_cast<double>(features) + 16.0 * d) + 4.0 * static_cast<double>(m.n_heads) * t * t);
}

double training_activation_bytes(const Config::Model& m, int64_t features) {
  return 2.0 * static_cast<double>(std::max<int64_t>(1, m.n_layers)) * inference_activation_bytes(m, features);
}

int64_t largest_fitting_batch(double bytes_per_window, double free_bytes, int64_t max_batch) {
  int64_t b = 1;
  while (b * 2 <= max_batch && static_cast<double>(b * 2) * bytes_per_window <= 0.5 * free_bytes) b *= 2;
  return b;
}

}  // namespace tickstream
