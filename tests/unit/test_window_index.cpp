// Window index: period bars (daily, intraday with date-only ends) and sample windows from masks.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "data/window_index.hpp"

namespace tickstream {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kMonday = 1578268800;  // 2020-01-06 00:00:00 UTC

BarRange range(int64_t first, int64_t last) {
  BarRange r;
  r.first = first;
  r.last = last;
  return r;
}

WindowRule rule(int64_t seq_len, int64_t horizon, BarRange period) {
  WindowRule w;
  w.seq_len = seq_len;
  w.horizon = horizon;
  w.period = period;
  return w;
}

// End bars of the windows of one ticker (row checked to be `row` on every window).
std::vector<int32_t> ends(const std::vector<uint8_t>& feat, const std::vector<uint8_t>& label,
                          const WindowRule& r, int32_t row = 0) {
  EXPECT_EQ(feat.size(), label.size());
  std::vector<Window> out;
  append_windows(feat.data(), label.data(), static_cast<int64_t>(feat.size()), row, r, out);
  std::vector<int32_t> e;
  for (const Window& w : out) {
    EXPECT_EQ(w.row, row);
    e.push_back(w.end);
  }
  return e;
}

std::vector<uint8_t> ones(size_t n) { return std::vector<uint8_t>(n, 1); }

TEST(WindowIndex, AllValidWindowsStopBeforeTheHorizon) {
  // seq_len 3: the first end is bar 2; horizon 1 on period [0, 9]: the last end is 8.
  EXPECT_EQ(ends(ones(10), ones(10), rule(3, 1, range(0, 9))),
            (std::vector<int32_t>{2, 3, 4, 5, 6, 7, 8}));
  // horizon 3: the last end is 6.
  EXPECT_EQ(ends(ones(10), ones(10), rule(3, 3, range(0, 9))), (std::vector<int32_t>{2, 3, 4, 5, 6}));
}

TEST(WindowIndex, FeatureGapResetsTheRun) {
  std::vector<uint8_t> feat = ones(10);
  feat[4] = 0;
  // Run: 1 2 3 4 0 1 2 3 4 5 -> ends with run >= 3 at 2, 3, 7, 8 (9 is cut by the horizon).
  EXPECT_EQ(ends(feat, ones(10), rule(3, 1, range(0, 9))), (std::vector<int32_t>{2, 3, 7, 8}));
  // Two gaps closer than seq_len leave nothing between them.
  feat[6] = 0;
  EXPECT_EQ(ends(feat, ones(10), rule(3, 1, range(0, 9))), (std::vector<int32_t>{2, 3}));
  // A gap at the first bar only delays the first window.
  std::vector<uint8_t> late = ones(6);
  late[0] = 0;
  EXPECT_EQ(ends(late, ones(6), rule(2, 1, range(0, 5))), (std::vector<int32_t>{2, 3, 4}));
}

// A skip store's rule: the last seq_len bars with features within seq_len + max_missing bars.
TEST(WindowIndex, SkipRuleStepsOverMissingBarsWithinTheSpan) {
  std::vector<uint8_t> feat = ones(12);
  feat[4] = 0;
  WindowRule r = rule(3, 1, range(0, 11));
  r.max_missing = 1;  // span 4
  // Valid features in the 4 bars up to t: t=2: 3; t=3: 4; 4: missing as-of bar (no label window);
  // 5: bars 2..5 hold 3; 6: 3; 7: 3 (4..7); 8..10: 4. Training windows need features at t.
  EXPECT_EQ(ends(feat, ones(12), r), (std::vector<int32_t>{2, 3, 5, 6, 7, 8, 9, 10}));
  feat[6] = 0;  // two missing bars in 4: bars 3..6 hold 2, 4..7 hold 2, 5..8 hold 3
  EXPECT_EQ(ends(feat, ones(12), r), (std::vector<int32_t>{2, 3, 5, 8, 9, 10}));
  r.max_missing = 0;  // strict: contiguous runs only
  EXPECT_EQ(ends(feat, ones(12), r), (std::vector<int32_t>{2, 3, 9, 10}));
}

// A skip store's label runs to the horizon-th bar with features after t: inside the period.
TEST(WindowIndex, SkipLabelsStayInsideThePeriod) {
  std::vector<uint8_t> feat = ones(10);
  feat[8] = 0;
  WindowRule r = rule(2, 1, range(0, 9));
  r.max_missing = 2;
  // t = 7's label runs to bar 9 (bar 8 missing): inside [0, 9]; t = 8 has no features.
  EXPECT_EQ(ends(feat, ones(10), r), (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7}));
  r.period = range(0, 8);  // now bar 9 is outside: t = 7 is dropped
  EXPECT_EQ(ends(feat, ones(10), r), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
}

TEST(WindowIndex, WindowBarsAreTheLastBarsWithFeatures) {
  const std::vector<uint8_t> v{1, 1, 0, 1, 1, 0, 0, 1};
  std::vector<int32_t> bars(4);
  ASSERT_TRUE(window_bars(v.data(), 7, 4, 0, bars.data()));
  EXPECT_EQ(bars, (std::vector<int32_t>{1, 3, 4, 7}));
  EXPECT_FALSE(window_bars(v.data(), 7, 4, 2, bars.data()));  // only 3 of them at or after bar 2
  EXPECT_EQ(valid_in_span(v.data(), 7, 4, 4), 2);  // bars 4..7
  EXPECT_EQ(valid_in_span(v.data(), 6, 8, 3), 3);  // capped at max
}

TEST(WindowIndex, InvalidLabelsAreSkippedWithoutBreakingTheRun) {
  std::vector<uint8_t> label = ones(10);
  label[3] = 0;
  label[5] = 0;
  EXPECT_EQ(ends(ones(10), label, rule(3, 1, range(0, 9))), (std::vector<int32_t>{2, 4, 6, 7, 8}));
}

TEST(WindowIndex, PeriodBoundariesAndHorizonEmbargo) {
  // Period [5, 8], horizon 2: ends 5 and 6 (6 + 2 = 8 is the period's last bar); the history of
  // end 5 (bars 3..5) may reach before the period.
  EXPECT_EQ(ends(ones(12), ones(12), rule(3, 2, range(5, 8))), (std::vector<int32_t>{5, 6}));
  // Period [1, 8] with seq_len 3: the first end is still bar 2 (a full history is required).
  EXPECT_EQ(ends(ones(12), ones(12), rule(3, 2, range(1, 8))), (std::vector<int32_t>{2, 3, 4, 5, 6}));
  // A period shorter than the horizon has no windows.
  EXPECT_TRUE(ends(ones(12), ones(12), rule(1, 3, range(5, 7))).empty());
  // An empty period has none either.
  EXPECT_TRUE(ends(ones(12), ones(12), rule(1, 1, range(6, 5))).empty());
  // A period running past the ticker's bars is clipped to them (labels decide the tail).
  std::vector<uint8_t> label = ones(6);
  label[5] = 0;
  EXPECT_EQ(ends(ones(6), label, rule(2, 1, range(0, 20))), (std::vector<int32_t>{1, 2, 3, 4}));
  // A gap before the period still counts against the history.
  std::vector<uint8_t> feat = ones(12);
  feat[4] = 0;
  EXPECT_EQ(ends(feat, ones(12), rule(3, 1, range(5, 11))), (std::vector<int32_t>{7, 8, 9, 10}));
}

TEST(WindowIndex, SeqLenOne) {
  const std::vector<uint8_t> feat{1, 0, 1, 1, 0, 1};
  const std::vector<uint8_t> label{1, 1, 0, 1, 1, 1};
  // Bar 5 is the period's last bar: no label inside the period.
  EXPECT_EQ(ends(feat, label, rule(1, 1, range(0, 5))), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(ends(feat, label, rule(1, 0, range(0, 5))), (std::vector<int32_t>{0, 3, 5}));
}

TEST(WindowIndex, SeqLenLongerThanTheTickerGivesNothing) {
  EXPECT_TRUE(ends(ones(5), ones(5), rule(6, 1, range(0, 4))).empty());
}

TEST(WindowIndex, AppendKeepsEarlierWindowsAndTheRow) {
  std::vector<Window> out{Window{9, 99}};
  const auto m = ones(5);
  append_windows(m.data(), m.data(), 5, 7, rule(4, 1, range(0, 4)), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].row, 9);
  EXPECT_EQ(out[0].end, 99);
  EXPECT_EQ(out[1].row, 7);
  EXPECT_EQ(out[1].end, 3);
}

// The definition, written out the slow way.
std::vector<int32_t> brute_force(const std::vector<uint8_t>& feat, const std::vector<uint8_t>& label,
                                 const WindowRule& r) {
  std::vector<int32_t> out;
  const int64_t bars = static_cast<int64_t>(feat.size());
  for (int64_t t = 0; t < bars; ++t) {
    if (t < r.period.first || t + r.horizon > r.period.last || t + 1 < r.seq_len || !label[t]) continue;
    bool full = true;
    for (int64_t k = t - r.seq_len + 1; k <= t; ++k) full = full && feat[k];
    if (full) out.push_back(static_cast<int32_t>(t));
  }
  return out;
}

TEST(WindowIndex, CountWindowsMatchesPerRowAppendAndTheDefinition) {
  constexpr int64_t kTickers = 6, kBars = 50;
  std::mt19937 gen(7);
  std::bernoulli_distribution feat_ok(0.85), label_ok(0.9);
  std::vector<uint8_t> feat(kTickers * kBars), label(kTickers * kBars);
  for (auto& v : feat) v = feat_ok(gen);
  for (auto& v : label) v = label_ok(gen);
  for (const WindowRule& r : {rule(4, 1, range(0, 49)), rule(1, 2, range(10, 40)), rule(8, 5, range(3, 60))}) {
    const std::vector<int64_t> counts = count_windows(feat, label, kTickers, kBars, r);
    ASSERT_EQ(counts.size(), static_cast<size_t>(kTickers));
    int64_t total = 0;
    for (int64_t i = 0; i < kTickers; ++i) {
      const std::vector<uint8_t> f(feat.begin() + i * kBars, feat.begin() + (i + 1) * kBars);
      const std::vector<uint8_t> l(label.begin() + i * kBars, label.begin() + (i + 1) * kBars);
      const std::vector<int32_t> e = ends(f, l, r, static_cast<int32_t>(i));
      EXPECT_EQ(counts[static_cast<size_t>(i)], static_cast<int64_t>(e.size())) << "row " << i;
      EXPECT_EQ(e, brute_force(f, l, r)) << "row " << i << " seq_len " << r.seq_len;
      total += counts[static_cast<size_t>(i)];
    }
    EXPECT_GT(total, 0);  // the masks leave windows to count
  }
}

TEST(PeriodBars, DailyTimes) {
  std::vector<int64_t> time;
  for (int d = 0; d < 5; ++d) time.push_back(kMonday + d * kDay);
  BarRange r = period_bars(time, kMonday + kDay, kMonday + 3 * kDay);
  EXPECT_EQ(r.first, 1);
  EXPECT_EQ(r.last, 3);
  EXPECT_EQ(r.size(), 3);
  r = period_bars(time, 0, 0);  // unset ends: every bar
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.last, 4);
  r = period_bars(time, kMonday + kDay / 2, 0);  // a start between bars begins at the next one
  EXPECT_EQ(r.first, 1);
  EXPECT_EQ(r.last, 4);
  r = period_bars(time, 0, kMonday - kDay);  // ends before the first bar
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.size(), 0);
  r = period_bars(time, kMonday + 10 * kDay, 0);  // starts after the last bar
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(period_bars({}, 0, 0).empty());
}

TEST(PeriodBars, DateOnlyEndIncludesTheWholeDayOfIntradayBars) {
  // Hourly bars 14:30 .. 20:30 UTC on Monday and Tuesday: 7 a day.
  std::vector<int64_t> time;
  for (int d = 0; d < 2; ++d)
    for (int h = 0; h < 7; ++h) time.push_back(kMonday + d * kDay + 14 * 3600 + 1800 + h * 3600);
  BarRange r = period_bars(time, 0, kMonday);  // "end = Monday": all of Monday
  EXPECT_EQ(r.first, 0);
  EXPECT_EQ(r.last, 6);
  r = period_bars(time, kMonday + kDay, kMonday + kDay);  // Tuesday only
  EXPECT_EQ(r.first, 7);
  EXPECT_EQ(r.last, 13);
  r = period_bars(time, 0, kMonday + 17 * 3600);  // an end with a time of day is exact: up to 16:30
  EXPECT_EQ(r.last, 2);
  r = period_bars(time, kMonday + 16 * 3600 + 1800, 0);  // a start with a time includes that bar
  EXPECT_EQ(r.first, 2);
  EXPECT_EQ(r.last, 13);
}

}  // namespace
}  // namespace tickstream
