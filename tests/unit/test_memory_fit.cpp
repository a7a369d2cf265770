// The "auto" batch sizes: closed-form activation estimates and the largest power of two that fits.
#include <gtest/gtest.h>

#include "model/memory_fit.hpp"

namespace tickstream {
namespace {

TEST(MemoryFit, LargestPowerOfTwoWithinHalfTheFreeMemory) {
  EXPECT_EQ(largest_fitting_batch(1.0, 8.0, 1 << 20), 4);     // 4 x 1 <= 8 / 2; 8 would not fit
  EXPECT_EQ(largest_fitting_batch(1.0, 7.9, 1 << 20), 2);
  EXPECT_EQ(largest_fitting_batch(100.0, 1e6, 1 << 20), 4096);  // 4096 x 100 <= 5e5 < 8192 x 100
  EXPECT_EQ(largest_fitting_batch(1.0, 1e12, 8192), 8192);     // the cap
  EXPECT_EQ(largest_fitting_batch(1e9, 1e6, 8192), 1);         // nothing fits: one window
  EXPECT_EQ(largest_fitting_batch(1.0, 0.0, 8192), 1);         // no device memory known
}

TEST(MemoryFit, ActivationEstimatesInClosedForm) {
  Config::Model m;
  m.seq_len = 64, m.d_model = 32, m.n_heads = 4, m.n_layers = 3;
  // 4 bytes x (64 x (20 + 16 x 32) + 4 x 4 x 64^2)
  const double inference = 4.0 * (64.0 * (20 + 512) + 16.0 * 4096);
  EXPECT_DOUBLE_EQ(inference_activation_bytes(m, 20), inference);
  EXPECT_DOUBLE_EQ(training_activation_bytes(m, 20), 2.0 * 3 * inference);
}

}  // namespace
}  // namespace tickstream
