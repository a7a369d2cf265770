// Coarser timeframes: buckets, the no-lookahead alignment, coarse bars (closed form), columns, and
// the property that nothing after a bar reaches its features.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "core/time.hpp"
#include "features/feature_set.hpp"
#include "features/timeframes.hpp"
#include "store/synth.hpp"

namespace tickstream {
namespace {

constexpr int64_t kDay = 86400;

TimeframeSpec spec(const std::string& name, std::vector<std::string> features) {
  return resolve_timeframes({Config::Timeframe{name, std::move(features)}}).at(0);
}

TEST(Timeframes, NamesAndBuckets) {
  const int64_t monday = days_from_civil(2010, 1, 4) * kDay;
  const TimeframeSpec w = spec("1w", {"rsi_14"});
  EXPECT_EQ(timeframe_bucket(w, monday), timeframe_bucket(w, monday + 6 * kDay + kDay - 1));  // Mon..Sun
  EXPECT_NE(timeframe_bucket(w, monday - 1), timeframe_bucket(w, monday));  // Sunday 23:59:59 is last week
  const TimeframeSpec m5 = spec("5min", {"logret_1"});
  EXPECT_EQ(m5.seconds, 300);
  EXPECT_EQ(timeframe_bucket(m5, monday + 14 * 3600 + 30 * 60), timeframe_bucket(m5, monday + 14 * 3600 + 34 * 60 + 59));
  EXPECT_NE(timeframe_bucket(m5, monday + 14 * 3600 + 34 * 60), timeframe_bucket(m5, monday + 14 * 3600 + 35 * 60));
  EXPECT_EQ(spec("1h", {"vol_20"}).seconds, 3600);
  EXPECT_THROW(spec("2w", {"rsi_14"}), InputError);
  EXPECT_THROW(spec("7min", {"rsi_14"}), InputError);  // does not divide a day
  EXPECT_THROW(spec("1w", {"rsi_15"}), InputError);
  EXPECT_THROW(spec("1w", {"rsi_14", "rsi_14"}), InputError);
  EXPECT_EQ(feature_columns({spec("1w", {"rsi_14", "vol_20"})}).back(), "1w_vol_20");
  EXPECT_EQ(feature_columns({spec("1w", {"rsi_14"})}).size(), kFeatureNames.size() + 1);
}

// Daily bars Mon..Fri of two weeks, then a Monday: a week is usable from its last bar on the axis.
TEST(Timeframes, AxisUsesACoarseBarOnlyOnceItHasClosed) {
  const int64_t monday = days_from_civil(2010, 1, 4) * kDay;
  std::vector<int64_t> time;
  for (int64_t w = 0; w < 2; ++w)
    for (int64_t d = 0; d < 5; ++d) time.push_back(monday + (7 * w + d) * kDay);
  time.push_back(monday + 14 * kDay);
  const TimeframeAxis a = timeframe_axis(spec("1w", {"rsi_14"}), time);
  EXPECT_EQ(a.coarse_bars, 3);
  EXPECT_EQ(a.coarse_of, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2}));
  EXPECT_EQ(a.usable, (std::vector<int64_t>{-1, -1, -1, -1, 0, 0, 0, 0, 0, 1, 2}));  // the last bar closes week 2
}

TEST(Timeframes, CoarseBarsAggregateTheTickersOwnAdjustedBars) {
  RawBlock b;
  b.resize(0, 1, 4, true);
  const double open[] = {10, 11, 12, 13}, high[] = {12, 15, 13, 14}, low[] = {9, 10, 8, 12}, close[] = {11, 12, 13, 14};
  for (int t = 0; t < 4; ++t) {
    b.open[t] = open[t], b.high[t] = high[t], b.low[t] = low[t], b.close[t] = close[t];
    b.volume[t] = 100.0 * (t + 1), b.valid[t] = t != 2, b.adj_close[t] = t == 0 ? close[t] / 2 : close[t];  // a 2:1 split
  }
  TimeframeAxis a;
  a.coarse_of = {0, 0, 0, 1}, a.usable = {-1, -1, 0, 1}, a.coarse_bars = 2;
  const RawBlock c = coarse_block(b, a);
  ASSERT_EQ(c.bars, 2);
  EXPECT_DOUBLE_EQ(c.open[0], 5.0);              // bar 0 adjusted by 1/2
  EXPECT_DOUBLE_EQ(c.high[0], 15.0);             // max(6, 15); bar 2 is missing
  EXPECT_DOUBLE_EQ(c.low[0], 4.5);               // min(4.5, 10)
  EXPECT_DOUBLE_EQ(c.close[0], 12.0);            // the last valid bar
  EXPECT_DOUBLE_EQ(c.volume[0], 100.0 + 200.0);
  EXPECT_EQ(c.valid[1], 1);
  EXPECT_DOUBLE_EQ(c.close[1], 14.0);
}

RawBlock synth_block(int64_t tickers, int64_t days, uint64_t seed, const std::string& freq = "1d") {
  SynthSpec s;
  s.tickers = tickers, s.days = days, s.seed = seed, s.freq = freq;
  RawBlock b;
  synth_generate(s, synth_factors(s, days * (freq == "1d" ? 1 : 390)), 0, tickers, b, nullptr);
  return b;
}

// The weekly columns at bar t are the weekly kernel's values of the last week closed at t.
TEST(Timeframes, WeeklyColumnsAreTheClosedWeeksFeatures) {
  SynthSpec s;
  s.days = 400;
  const std::vector<int64_t> time = synth_calendar(s);
  const RawBlock b = synth_block(6, 400, 3);
  const TimeframeSpec w = spec("1w", {"logret_1", "rsi_14", "sma_20_rel"});
  const FeatureBlock base = compute_feature_block(b, 1, Gaps::skip);
  const FeatureBlock all = add_timeframes(b, time, base, {w}, Gaps::skip);
  ASSERT_EQ(all.width, kFeatureCount + 3);
  const TimeframeAxis axis = timeframe_axis(w, time);
  const FeatureBlock weekly = compute_feature_block(coarse_block(b, axis), 1, Gaps::skip);
  int64_t finite = 0;
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t < b.bars; ++t) {
      const float* row = all.features.data() + (r * b.bars + t) * all.width;
      for (int64_t j = 0; j < kFeatureCount; ++j)  // the default columns are untouched
        ASSERT_TRUE(std::isnan(row[j]) ? std::isnan(base.features[(r * b.bars + t) * kFeatureCount + j])
                                       : row[j] == base.features[(r * b.bars + t) * kFeatureCount + j]);
      const int64_t u = axis.usable[t];
      for (size_t j = 0; j < w.features.size(); ++j) {
        const float want = u < 0 ? NAN : weekly.features[(r * axis.coarse_bars + u) * kFeatureCount + w.features[j]];
        ASSERT_TRUE(std::isnan(want) ? std::isnan(row[kFeatureCount + j]) : row[kFeatureCount + j] == want) << t;
        finite += std::isfinite(row[kFeatureCount + j]);
      }
      if (all.feature_valid[r * b.bars + t]) {
        ASSERT_TRUE(std::isfinite(row[kFeatureCount + 1]));
      }
    }
  EXPECT_GT(finite, 6 * 300 * 3);
}

// No lookahead: changing every bar after a cut leaves every column up to the cut as it was, daily
// -> weekly and 1-minute -> hourly and daily.
TEST(Timeframes, NoLookahead) {
  for (const auto& [freq, names] : {std::pair<std::string, std::vector<std::string>>{"1d", {"1w"}}, {"1min", {"1h", "1d"}}}) {
    SynthSpec s;
    s.days = freq == "1d" ? 300 : 12, s.freq = freq;
    const std::vector<int64_t> time = synth_calendar(s);
    const RawBlock b = synth_block(4, s.days, 8, freq);
    std::vector<TimeframeSpec> tfs;
    for (const auto& n : names) tfs.push_back(spec(n, {"logret_1", "rsi_14", "vol_20", "high_20_rel"}));
    const FeatureBlock f0 = add_timeframes(b, time, compute_feature_block(b, 1, Gaps::skip), tfs, Gaps::skip);
    std::mt19937_64 rng(1);
    for (int trial = 0; trial < 4; ++trial) {
      const int64_t cut = static_cast<int64_t>(rng() % static_cast<uint64_t>(b.bars - 10));
      RawBlock changed = b;
      for (int64_t r = 0; r < b.rows; ++r)
        for (int64_t t = cut + 1; t < b.bars; ++t) {
          const size_t i = b.index(r, t);
          for (auto* v : {&changed.open, &changed.high, &changed.low, &changed.close, &changed.adj_close}) (*v)[i] *= 1.7;
          changed.volume[i] *= 2;
        }
      const FeatureBlock f1 = add_timeframes(changed, time, compute_feature_block(changed, 1, Gaps::skip), tfs, Gaps::skip);
      for (int64_t r = 0; r < b.rows; ++r)
        for (int64_t t = 0; t <= cut; ++t)
          for (int64_t j = 0; j < f0.width; ++j) {
            const float a = f0.features[(r * b.bars + t) * f0.width + j], c = f1.features[(r * b.bars + t) * f0.width + j];
            ASSERT_TRUE(std::isnan(a) ? std::isnan(c) : a == c) << freq << " column " << j << " bar " << t << " cut " << cut;
          }
    }
  }
}

}  // namespace
}  // namespace tickstream
