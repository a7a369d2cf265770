// Serial feature/label reference against hand-computed values, warm-ups, gaps and adjustment.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "features/reference.hpp"

namespace tickstream {
namespace {

// Owned storage for one ticker's raw bars; view() is the TickerSeries the reference reads.
struct OwnedSeries {
  std::vector<double> open, high, low, close, volume, adj_close;
  std::vector<uint8_t> valid;

  TickerSeries view() const {
    TickerSeries s;
    s.open = open.data();
    s.high = high.data();
    s.low = low.data();
    s.close = close.data();
    s.volume = volume.data();
    s.adj_close = adj_close.empty() ? nullptr : adj_close.data();
    s.valid = valid.data();
    s.bars = static_cast<int64_t>(close.size());
    return s;
  }
};

// Bars with the given closes; open = high = low = close, volume 1000, all valid.
OwnedSeries from_closes(const std::vector<double>& c) {
  OwnedSeries s;
  s.open = s.high = s.low = s.close = c;
  s.volume.assign(c.size(), 1000.0);
  s.valid.assign(c.size(), 1);
  return s;
}

// A fixed, exactly representable OHLCV pattern (the Python cross-check uses the same formulas).
OwnedSeries pattern(int64_t n) {
  OwnedSeries s;
  for (int64_t t = 0; t < n; ++t) {
    const double c = 100.0 + static_cast<double>((t * 37) % 17) - 0.25 * static_cast<double>(t);
    s.close.push_back(c);
    s.high.push_back(c + 1.0 + static_cast<double>(t % 3) * 0.25);
    s.low.push_back(c - 0.5 - static_cast<double>(t % 4) * 0.25);
    s.open.push_back(c - 0.375 + static_cast<double>(t % 5) * 0.25);
    s.volume.push_back(1000.0 + static_cast<double>((t * 13) % 29) * 100.0);
    s.valid.push_back(1);
  }
  return s;
}

// Column of a feature by name.
int64_t col(const std::string& name) {
  for (int64_t f = 0; f < kFeatureCount; ++f)
    if (name == kFeatureNames[f]) return f;
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

// Warm-up of every feature (docs/features.md).
std::map<std::string, int64_t> warmups() {
  return {{"logret_1", 1},    {"logret_5", 5},       {"logret_10", 10},  {"logret_20", 20},
          {"vol_20", 20},     {"rsi_14", 14},        {"macd_12_26", 25}, {"macd_signal_9", 33},
          {"bb_pctb_20", 19}, {"atr_14_rel", 14},    {"sma_20_rel", 19}, {"sma_50_rel", 49},
          {"range_rel", 0},   {"gap", 1},            {"volume_z_20", 19}, {"obv_rel_20", 20},
          {"clv", 0},         {"logret_60", 60},     {"vol_60", 60},     {"high_20_rel", 19}};
}

struct Features {
  std::vector<double> values;
  double at(int64_t t, const std::string& name) const { return values[t * kFeatureCount + col(name)]; }
  double at(int64_t t, int64_t f) const { return values[t * kFeatureCount + f]; }
};

Features features_of(const OwnedSeries& s) {
  Features out;
  out.values.resize(s.close.size() * kFeatureCount);
  reference_features(s.view(), out.values.data());
  return out;
}

std::vector<double> labels_of(const OwnedSeries& s, int64_t horizon) {
  std::vector<double> out(s.close.size() * kLabelCount);
  reference_labels(s.view(), horizon, out.data());
  return out;
}

// 1e-9 relative (plus a tiny absolute floor for expected zeros).
void expect_rel(double actual, double expected) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::fabs(expected) + 1e-15);
}

// Same value, NaN included (bitwise-equal doubles or both NaN).
bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Expected values below come from /usr/bin/python3: pandas ewm(adjust=False) seeded with the SMA
// of the first n defined inputs, pandas rolling mean/std, and plain loops (a different
// formulation from the reference's).

TEST(FeatureReference, RsiWilderExample) {
  const OwnedSeries s = from_closes({44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
                                     45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64});
  const Features f = features_of(s);
  const double expected[] = {70.46413502109705,  66.249618553555067, 66.480941834712652,
                             69.346853162908658, 66.29471265892623,  57.915020670085553};
  EXPECT_TRUE(std::isnan(f.at(13, "rsi_14")));
  for (int64_t t = 14; t < 20; ++t) expect_rel(f.at(t, "rsi_14"), expected[t - 14]);
}

TEST(FeatureReference, MacdLineAndSignal) {
  const Features f = features_of(pattern(40));
  expect_rel(f.at(25, "macd_12_26"), -2.0466471141991183);
  expect_rel(f.at(30, "macd_12_26"), -1.7286268804610261);
  expect_rel(f.at(33, "macd_12_26"), -1.052559608736181);
  expect_rel(f.at(39, "macd_12_26"), -1.1045291901332632);
  EXPECT_TRUE(std::isnan(f.at(24, "macd_12_26")));
  EXPECT_TRUE(std::isnan(f.at(30, "macd_signal_9")));
  EXPECT_TRUE(std::isnan(f.at(32, "macd_signal_9")));
  expect_rel(f.at(33, "macd_signal_9"), -1.4909632639114736);
  expect_rel(f.at(39, "macd_signal_9"), -1.6717428151779883);
}

TEST(FeatureReference, BollingerPctB) {
  const Features f = features_of(pattern(40));
  const double expected[] = {0.32150651996546697, 0.44580168724195918, 0.57462354435934249, 0.7001794008512553};
  EXPECT_TRUE(std::isnan(f.at(18, "bb_pctb_20")));
  for (int64_t t = 19; t <= 22; ++t) expect_rel(f.at(t, "bb_pctb_20"), expected[t - 19]);
}

TEST(FeatureReference, AtrRelative) {
  const Features f = features_of(pattern(40));
  const double expected[] = {0.053827751196172252, 0.0511988011988012, 0.048950602968460113};
  EXPECT_TRUE(std::isnan(f.at(13, "atr_14_rel")));
  for (int64_t t = 14; t <= 16; ++t) expect_rel(f.at(t, "atr_14_rel"), expected[t - 14]);
}

TEST(FeatureReference, RollingFeaturesOnPattern) {
  const Features f = features_of(pattern(40));
  // t, vol_20, volume_z_20, obv_rel_20, sma_20_rel (plain Python loops).
  const double expected[][5] = {
      {20, 0.059341087666478241, 1.2975752969211356, 0.68016194331983804, -0.01023078753271478},
      {21, 0.05931854050143312, -0.12824100570997704, 0.67951318458417853, 0.014010923771075712},
      {22, 0.059297694530388328, 1.0959587967213782, 0.67886178861788615, 0.038160701588054069},
      {30, 0.067693493638266003, 0.045958711688393175, 0.6776859504132231, -0.051787016776075889},
      {39, 0.061803918167861856, 0.20371029693480722, 0.80631578947368421, 0.039762904420844736}};
  for (const auto& row : expected) {
    const auto t = static_cast<int64_t>(row[0]);
    SCOPED_TRACE(t);
    expect_rel(f.at(t, "vol_20"), row[1]);
    expect_rel(f.at(t, "volume_z_20"), row[2]);
    expect_rel(f.at(t, "obv_rel_20"), row[3]);
    expect_rel(f.at(t, "sma_20_rel"), row[4]);
  }
}

TEST(FeatureReference, SimpleClosedForms) {
  const OwnedSeries s = pattern(40);
  const Features f = features_of(s);
  for (int64_t t : {20, 27, 39}) {
    SCOPED_TRACE(t);
    for (int64_t k : {1, 5, 10, 20})
      expect_rel(f.at(t, "logret_" + std::to_string(k)), std::log(s.close[t] / s.close[t - k]));
    expect_rel(f.at(t, "range_rel"), (s.high[t] - s.low[t]) / s.close[t]);
    expect_rel(f.at(t, "gap"), s.open[t] / s.close[t - 1] - 1.0);
  }
  expect_rel(f.at(0, "range_rel"), 1.5 / 100.0);  // h - l = 1 + 0.5 at t = 0
  expect_rel(f.at(1, "gap"), 102.625 / 100.0 - 1.0);
}

TEST(FeatureReference, ConstantPrices) {
  OwnedSeries s = from_closes(std::vector<double>(60, 10.1));
  s.volume.assign(60, 537.0);
  const Features f = features_of(s);
  const std::map<std::string, double> expected = {
      {"logret_1", 0.0},   {"logret_20", 0.0},  {"vol_20", 0.0},     {"rsi_14", 50.0},  // U + D == 0
      {"macd_12_26", 0.0}, {"macd_signal_9", 0.0}, {"bb_pctb_20", 0.5},  // s == 0
      {"atr_14_rel", 0.0}, {"sma_20_rel", 0.0}, {"sma_50_rel", 0.0}, {"range_rel", 0.0},
      {"gap", 0.0},        {"volume_z_20", 0.0}, {"obv_rel_20", 0.0}};
  for (const auto& [name, value] : expected) {
    SCOPED_TRACE(name);
    EXPECT_NEAR(f.at(59, name), value, 1e-12);
  }
  // Zero volume: obv_rel_20 is 0 where the 20-bar volume sum is 0.
  s.volume.assign(60, 0.0);
  s.close[45] = 11.0;
  EXPECT_EQ(features_of(s).at(50, "obv_rel_20"), 0.0);
}

TEST(FeatureReference, LinearlyRisingCloses) {
  std::vector<double> c(60);
  for (int64_t t = 0; t < 60; ++t) c[t] = 100.0 + static_cast<double>(t);
  OwnedSeries s = from_closes(c);
  for (int64_t t = 0; t < 60; ++t) {
    s.high[t] = c[t] + 1.0;
    s.low[t] = c[t] - 1.0;
    s.open[t] = c[t] - 0.5;
  }
  const Features f = features_of(s);
  for (int64_t t = 50; t < 60; ++t) {
    SCOPED_TRACE(t);
    EXPECT_NEAR(f.at(t, "rsi_14"), 100.0, 1e-12);
    EXPECT_NEAR(f.at(t, "obv_rel_20"), 1.0, 1e-12);
    expect_rel(f.at(t, "sma_20_rel"), c[t] / (c[t] - 9.5) - 1.0);
    expect_rel(f.at(t, "sma_50_rel"), c[t] / (c[t] - 24.5) - 1.0);
    expect_rel(f.at(t, "range_rel"), 2.0 / c[t]);
    expect_rel(f.at(t, "gap"), 0.5 / (c[t] - 1.0));
    // TR = max(c + 1, c - 1) - min(c - 1, c - 1) = 2 for every bar, so ATR = 2.
    expect_rel(f.at(t, "atr_14_rel"), 2.0 / c[t]);
  }
}

TEST(FeatureReference, AlternatingCloses) {
  // r = +-ln(1.1), ten of each over 20 bars: mean 0, sample sd ln(1.1) sqrt(20 / 19). Up bars
  // carry volume 300, down bars 100: OBV ratio (300 - 100) / (300 + 100) = 0.5.
  std::vector<double> c(40);
  for (int64_t t = 0; t < 40; ++t) c[t] = t % 2 == 0 ? 100.0 : 110.0;
  OwnedSeries s = from_closes(c);
  for (int64_t t = 0; t < 40; ++t) s.volume[t] = t % 2 == 1 ? 300.0 : 100.0;
  const Features f = features_of(s);
  for (int64_t t = 20; t < 40; ++t) {
    SCOPED_TRACE(t);
    expect_rel(f.at(t, "vol_20"), std::log(1.1) * std::sqrt(20.0 / 19.0));
    expect_rel(f.at(t, "obv_rel_20"), 0.5);
    // x alternates ln(301), ln(101): z = +-(d / 2) / (d / 2 sqrt(20 / 19)) = +-sqrt(19 / 20).
    expect_rel(f.at(t, "volume_z_20"), (t % 2 == 1 ? 1.0 : -1.0) * std::sqrt(19.0 / 20.0));
  }
}

// Every feature is NaN exactly before its warm-up and finite from it, counted from `start`.
void expect_warmups(const Features& f, int64_t start, int64_t end) {
  for (const auto& [name, warmup] : warmups()) {
    SCOPED_TRACE(name);
    for (int64_t t = start; t < end; ++t) {
      if (t - start < warmup)
        EXPECT_TRUE(std::isnan(f.at(t, name))) << "t = " << t;
      else
        EXPECT_TRUE(std::isfinite(f.at(t, name))) << "t = " << t;
    }
  }
}

TEST(FeatureReference, WarmupsOnGapFreeSeries) {
  EXPECT_EQ(static_cast<int64_t>(warmups().size()), kFeatureCount);
  expect_warmups(features_of(pattern(80)), 0, 80);
}

TEST(FeatureReference, GapSplitsSegments) {
  const OwnedSeries full = pattern(120);
  OwnedSeries gapped = full;
  gapped.valid[30] = 0;
  const Features ref = features_of(full), f = features_of(gapped);
  // Before the gap: identical to the gap-free computation.
  for (int64_t t = 0; t < 30; ++t)
    for (int64_t k = 0; k < kFeatureCount; ++k) EXPECT_TRUE(same(f.at(t, k), ref.at(t, k))) << t << " " << k;
  // The missing bar has no features; after it, warm-ups restart from bar 31.
  for (int64_t k = 0; k < kFeatureCount; ++k) EXPECT_TRUE(std::isnan(f.at(30, k)));
  expect_warmups(f, 31, 120);
  // After the gap: identical to the series that starts at bar 31 (nothing spans the gap).
  OwnedSeries tail;
  tail.open.assign(full.open.begin() + 31, full.open.end());
  tail.high.assign(full.high.begin() + 31, full.high.end());
  tail.low.assign(full.low.begin() + 31, full.low.end());
  tail.close.assign(full.close.begin() + 31, full.close.end());
  tail.volume.assign(full.volume.begin() + 31, full.volume.end());
  tail.valid.assign(89, 1);
  const Features g = features_of(tail);
  for (int64_t t = 31; t < 120; ++t)
    for (int64_t k = 0; k < kFeatureCount; ++k)
      EXPECT_TRUE(same(f.at(t, k), g.at(t - 31, k))) << t << " " << k;
}

TEST(FeatureReference, FeaturesUseOnlyPastBars) {
  const OwnedSeries s = pattern(80);
  const Features f = features_of(s);
  OwnedSeries perturbed = s;
  for (int64_t t = 60; t < 80; ++t) {
    perturbed.close[t] *= 1.5;
    perturbed.open[t] *= 0.7;
    perturbed.high[t] *= 1.6;
    perturbed.volume[t] += 1234.0;
  }
  const Features g = features_of(perturbed);
  for (int64_t t = 0; t < 60; ++t)
    for (int64_t k = 0; k < kFeatureCount; ++k) EXPECT_TRUE(same(f.at(t, k), g.at(t, k)));
}

TEST(FeatureReference, SplitAdjustment) {
  const OwnedSeries continuous = pattern(80);
  // 2:1 split at bar 40: raw prices before it are twice the continuous ones, adj_close is the
  // continuous close throughout; volume as stored.
  OwnedSeries raw = continuous;
  raw.adj_close = continuous.close;
  for (int64_t t = 0; t < 40; ++t) {
    raw.open[t] *= 2.0;
    raw.high[t] *= 2.0;
    raw.low[t] *= 2.0;
    raw.close[t] *= 2.0;
  }
  const Features expected = features_of(continuous), f = features_of(raw);
  for (int64_t t = 0; t < 80; ++t)
    for (int64_t k = 0; k < kFeatureCount; ++k) {
      if (std::isnan(expected.at(t, k)))
        EXPECT_TRUE(std::isnan(f.at(t, k)));
      else
        expect_rel(f.at(t, k), expected.at(t, k));
    }
  // Without adjustment the split shows as a jump.
  raw.adj_close.clear();
  expect_rel(features_of(raw).at(40, "logret_1"), std::log(continuous.close[40] / (2.0 * continuous.close[39])));
  // A non-finite adj_close leaves that bar's raw prices: here bar 40 equals continuous anyway.
  raw.adj_close = continuous.close;
  raw.adj_close[40] = std::nan("");
  expect_rel(features_of(raw).at(40, "logret_1"), std::log(continuous.close[40] / continuous.close[39]));
}

TEST(FeatureReference, Labels) {
  OwnedSeries s = pattern(60);
  s.valid[30] = 0;  // segments [0, 30) and [31, 60)
  for (int64_t h : {1, 5}) {
    SCOPED_TRACE(h);
    const std::vector<double> lab = labels_of(s, h);
    for (int64_t t = 0; t < 60; ++t) {
      const bool defined = (t < 30 && t + h < 30) || (t > 30 && t + h < 60);
      const double fwd = lab[t * kLabelCount], up = lab[t * kLabelCount + 1];
      if (!defined) {
        EXPECT_TRUE(std::isnan(fwd) && std::isnan(up)) << t;
        continue;
      }
      expect_rel(fwd, std::log(s.close[t + h] / s.close[t]));
      EXPECT_EQ(up, fwd > 0.0 ? 1.0 : 0.0) << t;
      EXPECT_EQ(up, s.close[t + h] > s.close[t] ? 1.0 : 0.0) << t;
    }
  }
  // Flat prices: fwd_logret 0, fwd_up 0 (strictly greater than 0 is up).
  const std::vector<double> flat = labels_of(from_closes(std::vector<double>(10, 5.0)), 1);
  EXPECT_EQ(flat[0], 0.0);
  EXPECT_EQ(flat[1], 0.0);
}

}  // namespace
}  // namespace tickstream
