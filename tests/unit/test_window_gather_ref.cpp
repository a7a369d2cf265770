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

// One-tile arguments over `chunk` [tickers, bars, features].
WindowGatherArgs one_tile(const GatherTile& tile, int64_t features, const std::vector<int32_t>& rows,
                          const std::vector<int32_t>& ends, int64_t seq, const std::vector<float>& mean,
                          const std::vector<float>& inv_std, std::vector<float>& out, float clip = 0.f) {
  WindowGatherArgs a;
  a.tiles = &tile, a.tiles_count = 1, a.features = features, a.rows = rows.data(), a.ends = ends.data();
  a.batch = static_cast<int64_t>(rows.size()), a.seq_len = seq, a.mean = mean.data(), a.inv_std = inv_std.data();
  a.out = out.data(), a.clip = clip;
  return a;
}

TEST(WindowGatherReference, GathersAndNormalizes) {
  const int64_t tickers = 3, bars = 20, features = 2, seq = 4;
  const auto chunk = make_chunk(tickers, bars, features);
  const GatherTile tile{chunk.data(), tickers, bars};
  const std::vector<int32_t> rows{2, 0}, ends{3, 19};
  const std::vector<float> mean{1.f, 2.f}, inv_std{0.5f, 0.25f};
  std::vector<float> out(2 * seq * features);
  window_gather_reference(one_tile(tile, features, rows, ends, seq, mean, inv_std, out));
  // Window 0: ticker 2, bars 0..3. Window 1: ticker 0, bars 16..19.
  for (int64_t s = 0; s < seq; ++s) {
    EXPECT_FLOAT_EQ(out[(0 * seq + s) * 2 + 0], (2000.f + 10.f * s + 0 - 1.f) * 0.5f);
    EXPECT_FLOAT_EQ(out[(0 * seq + s) * 2 + 1], (2000.f + 10.f * s + 1 - 2.f) * 0.25f);
    EXPECT_FLOAT_EQ(out[(1 * seq + s) * 2 + 0], (10.f * (16 + s) - 1.f) * 0.5f);
  }
}

// A window around missing bars reads the bars it lists (oldest first).
TEST(WindowGatherReference, ReadsTheListedBarsOfAGappedWindow) {
  const int64_t features = 2, seq = 3;
  const auto chunk = make_chunk(2, 10, features);
  const GatherTile tile{chunk.data(), 2, 10};
  const std::vector<int32_t> rows{1}, ends{9}, bars{4, 7, 9};
  const std::vector<float> mean{0.f, 0.f}, inv_std{1.f, 1.f};
  std::vector<float> out(seq * features);
  WindowGatherArgs a = one_tile(tile, features, rows, ends, seq, mean, inv_std, out);
  a.bars = bars.data();
  window_gather_reference(a);
  for (int64_t s = 0; s < seq; ++s) EXPECT_FLOAT_EQ(out[s * features + 1], 1000.f + 10.f * bars[s] + 1);
  const std::vector<int32_t> after_end{4, 7, 10};
  a.bars = after_end.data();
  EXPECT_THROW(window_gather_reference(a), InternalError);
}

TEST(WindowGatherReference, ClipsToTheBound) {
  const auto chunk = make_chunk(3, 20, 2);
  const GatherTile tile{chunk.data(), 3, 20};
  const std::vector<int32_t> rows{2}, ends{3};
  const std::vector<float> mean{0.f, 0.f}, inv_std{1.f, -1.f};
  std::vector<float> out(4 * 2);
  window_gather_reference(one_tile(tile, 2, rows, ends, 4, mean, inv_std, out, 10.f));
  for (int64_t s = 0; s < 4; ++s) {  // values ~2000: +10 for inv_std 1, -10 for inv_std -1
    EXPECT_EQ(out[s * 2 + 0], 10.f);
    EXPECT_EQ(out[s * 2 + 1], -10.f);
  }
}

// Windows of one batch from two tiles: each window reads its own tile (tile 1's values are
// offset by 1e5 so a window read from the wrong tile shows).
TEST(WindowGatherReference, ReadsEachWindowFromItsTile) {
  auto t0 = make_chunk(2, 10, 1), t1 = make_chunk(4, 6, 1);
  for (float& v : t1) v += 1e5f;
  const GatherTile tiles[2] = {{t0.data(), 2, 10}, {t1.data(), 4, 6}};
  const std::vector<int32_t> tile{1, 0, 1}, rows{3, 1, 0}, ends{5, 9, 2};
  const std::vector<float> mean{0.f}, inv_std{1.f};
  std::vector<float> out(3 * 3);
  WindowGatherArgs a = one_tile(tiles[0], 1, rows, ends, 3, mean, inv_std, out);
  a.tiles = tiles, a.tiles_count = 2, a.tile = tile.data();
  window_gather_reference(a);
  for (int64_t s = 0; s < 3; ++s) {
    EXPECT_EQ(out[0 * 3 + s], 1e5f + 3000.f + 10.f * (3 + s));
    EXPECT_EQ(out[1 * 3 + s], 1000.f + 10.f * (7 + s));
    EXPECT_EQ(out[2 * 3 + s], 1e5f + 10.f * s);
  }
}

TEST(WindowGatherReference, RejectsOutOfRangeWindowsAndTiles) {
  const auto chunk = make_chunk(1, 5, 1);
  const GatherTile tile{chunk.data(), 1, 5};
  const std::vector<float> mean{0.f}, inv_std{1.f};
  std::vector<float> out(4);
  const std::vector<int32_t> zero{0}, two{2}, five{5}, one{1};
  EXPECT_THROW(window_gather_reference(one_tile(tile, 1, zero, two, 4, mean, inv_std, out)), InternalError);  // before bar 0
  EXPECT_THROW(window_gather_reference(one_tile(tile, 1, zero, five, 4, mean, inv_std, out)), InternalError);  // past the end
  EXPECT_THROW(window_gather_reference(one_tile(tile, 1, one, five, 1, mean, inv_std, out)), InternalError);  // row 1 of 1
  WindowGatherArgs a = one_tile(tile, 1, zero, five, 1, mean, inv_std, out);
  a.ends = two.data(), a.tile = one.data();  // tile 1 of 1
  EXPECT_THROW(window_gather_reference(a), InternalError);
}

}  // namespace
}  // namespace tickstream
