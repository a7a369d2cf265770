// CPU reference of the window gather + normalize kernel against closed-form values.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.hpp"
#include "kernels/window_gather.hpp"

namespace tickstream {
namespace {

// chunk value = 1000*ticker + 10*bar + feature, so every gathered element is predictable.
std::vector<float> make_chunk(int64_t tickers, int64_t bars, int64_t features) {
  std::vector<float> c(tickers * bars * features);
  for (int64_t t = 0; t < tickers; ++t)
    for (int64_t b = 0; b < bars; ++b)
      for (int64_t f = 0; f < features; ++f)
        c[(t * bars + b) * features + f] = static_cast<float>(1000 * t + 10 * b + f);
  return c;
}

TEST(WindowGatherReference, GathersAndNormalizes) {
  const int64_t tickers = 3, bars = 20, features = 2, seq = 4;
  const auto chunk = make_chunk(tickers, bars, features);
  const std::vector<int32_t> rows{2, 0}, ends{3, 19};
  const std::vector<float> mean{1.f, 2.f}, inv_std{0.5f, 0.25f};
  std::vector<float> out(2 * seq * features);
  window_gather_reference({chunk.data(), tickers, bars, features, rows.data(), ends.data(), 2, seq,
                           mean.data(), inv_std.data(), out.data()});
  // Window 0: ticker 2, bars 0..3. Window 1: ticker 0, bars 16..19.
  for (int64_t s = 0; s < seq; ++s) {
    EXPECT_FLOAT_EQ(out[(0 * seq + s) * 2 + 0], (2000.f + 10.f * s + 0 - 1.f) * 0.5f);
    EXPECT_FLOAT_EQ(out[(0 * seq + s) * 2 + 1], (2000.f + 10.f * s + 1 - 2.f) * 0.25f);
    EXPECT_FLOAT_EQ(out[(1 * seq + s) * 2 + 0], (10.f * (16 + s) - 1.f) * 0.5f);
  }
}

TEST(WindowGatherReference, ClipsToTheBound) {
  const auto chunk = make_chunk(3, 20, 2);
  const std::vector<int32_t> rows{2}, ends{3};
  const std::vector<float> mean{0.f, 0.f}, inv_std{1.f, -1.f};
  std::vector<float> out(4 * 2);
  window_gather_reference({chunk.data(), 3, 20, 2, rows.data(), ends.data(), 1, 4, mean.data(), inv_std.data(),
                           out.data(), 10.f});
  for (int64_t s = 0; s < 4; ++s) {  // values ~2000: +10 for inv_std 1, -10 for inv_std -1
    EXPECT_EQ(out[s * 2 + 0], 10.f);
    EXPECT_EQ(out[s * 2 + 1], -10.f);
  }
}

TEST(WindowGatherReference, RejectsWindowBeforeChunkStart) {
  const auto chunk = make_chunk(1, 5, 1);
  const std::vector<int32_t> rows{0}, ends{2};
  const std::vector<float> mean{0.f}, inv_std{1.f};
  std::vector<float> out(4);
  EXPECT_THROW(window_gather_reference({chunk.data(), 1, 5, 1, rows.data(), ends.data(), 1, 4,
                                        mean.data(), inv_std.data(), out.data()}),
               InternalError);
}

}  // namespace
}  // namespace tickstream
