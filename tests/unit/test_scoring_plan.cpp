// Prediction plan: as-of bars of a date or range, ticker shards, read tiles, skip reasons, filter.
#include <gtest/gtest.h>

#include <numeric>

#include "core/error.hpp"
#include "core/time.hpp"
#include "predict/cross_section.hpp"
#include "predict/scoring_plan.hpp"

namespace tickstream {
namespace {

constexpr int64_t kDay = 86400;
const int64_t kMon = *parse_timestamp("2024-01-08");

// Mon..Fri daily bars of two weeks (10 bars).
std::vector<int64_t> daily() {
  std::vector<int64_t> t;
  for (int w = 0; w < 2; ++w)
    for (int d = 0; d < 5; ++d) t.push_back(kMon + (7 * w + d) * kDay);
  return t;
}

TEST(AsofBars, ADateIsItsLastBarOrTheLastBarBeforeIt) {
  const auto t = daily();
  EXPECT_EQ(asof_bars(t, kMon + 2 * kDay, kMon + 2 * kDay, "--asof"), (std::vector<int64_t>{2}));
  EXPECT_EQ(asof_bars(t, kMon + 5 * kDay, kMon + 5 * kDay, "--asof"), (std::vector<int64_t>{4}));  // Saturday
  EXPECT_EQ(asof_bars(t, kMon + 90 * kDay, kMon + 90 * kDay, "--asof"), (std::vector<int64_t>{9}));
  EXPECT_THROW(asof_bars(t, kMon - kDay, kMon - kDay, "--asof"), InputError);
}

TEST(AsofBars, ARangeHasEveryDaysLastBar) {
  const auto t = daily();
  EXPECT_EQ(asof_bars(t, kMon + 3 * kDay, kMon + 8 * kDay, "r"), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_THROW(asof_bars(t, kMon + 5 * kDay, kMon + 6 * kDay, "r"), InputError);  // a weekend only
  EXPECT_THROW(asof_bars(t, kMon + 3 * kDay, kMon, "r"), InputError);
  // Intraday: three bars a day, the last of each day.
  std::vector<int64_t> intraday;
  for (int d = 0; d < 3; ++d)
    for (int h = 14; h < 17; ++h) intraday.push_back(kMon + d * kDay + h * 3600);
  EXPECT_EQ(asof_bars(intraday, kMon, kMon + 2 * kDay, "r"), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(asof_bars(intraday, kMon + kDay, kMon + kDay, "--asof"), (std::vector<int64_t>{5}));
}

TEST(TickerShard, CoversEveryTickerOnceInWholeGroups) {
  for (int ranks = 1; ranks <= 5; ++ranks) {
    int64_t next = 0;
    for (int r = 0; r < ranks; ++r) {
      const auto [b, e] = ticker_shard(101, ranks, r, 16);
      EXPECT_EQ(b, next);
      if (e < 101) {
        EXPECT_EQ(e % 16, 0) << "a shard boundary splits an HDF5 chunk";
      }
      next = e;
    }
    EXPECT_EQ(next, 101);
  }
}

TEST(ScoreTiles, EveryAsofBarAndRowInExactlyOneTileWithinBudget) {
  const std::vector<int64_t> asof{40, 41, 42, 50, 90, 200};
  const int64_t seq = 8, features = 4;
  const size_t budget = 20 * (10 * features * sizeof(float) + 10);  // 20 bars of 10 rows
  const auto tiles = score_tiles({5, 30}, asof, seq, features, 10, budget);
  std::vector<int> seen(asof.size() * 25, 0);
  for (const Tile& t : tiles) {
    EXPECT_LE(t.rows, 10);
    EXPECT_LE(t.bars + seq - 1, 20);
    for (size_t k = 0; k < asof.size(); ++k)
      if (asof[k] >= t.bar_begin && asof[k] < t.bar_begin + t.bars)
        for (int64_t r = t.row_begin; r < t.row_begin + t.rows; ++r) ++seen[k * 25 + static_cast<size_t>(r - 5)];
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  EXPECT_TRUE(score_tiles({3, 3}, asof, seq, features, 10, budget).empty());
}

TEST(SkipReason, NamesWhyAWindowCannotBeScored) {
  const auto t = daily();
  const uint8_t valid[] = {0, 1, 1, 0, 1, 1, 1};
  EXPECT_EQ(valid_history(valid, 6, 8), 3);
  EXPECT_EQ(valid_history(valid, 2, 8), 2);
  EXPECT_EQ(valid_history(valid, 3, 8), 0);
  EXPECT_EQ(valid_history(valid, 6, 2), 2);
  EXPECT_EQ(skip_reason({-1, -1}, false, 0, 4, 5, t), "no bars in the store");
  EXPECT_EQ(skip_reason({7, 9}, false, 0, 4, 5, t), "not listed yet (first bar 2024-01-17)");
  EXPECT_EQ(skip_reason({0, 3}, false, 0, 4, 5, t), "delisted (last bar 2024-01-11)");
  EXPECT_EQ(skip_reason({0, 9}, false, 0, 4, 5, t), "no bar at the as-of date");
  EXPECT_EQ(skip_reason({0, 9}, true, 0, 4, 5, t), "missing features at the as-of bar");
  EXPECT_EQ(skip_reason({0, 9}, true, 3, 4, 5, t), "not enough history (3 of 4 bars with features)");
}

TEST(MinConfidence, DropsRowsBelowAndKeepsTheirRanks) {
  std::vector<Prediction> rows(5);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i].confidence = 0.1f * static_cast<float>(i), rows[i].rank = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(drop_below_confidence(rows, 0.25), 3);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].rank, 4);
  EXPECT_EQ(drop_below_confidence(rows, 0.0), 0);
}

}  // namespace
}  // namespace tickstream
