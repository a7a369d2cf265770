// Welford moments, Chan's merge and RunningStats against closed forms and a two-pass reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "features/running_stats.hpp"
#include "common/two_pass_stats.hpp"

namespace tickstream {
namespace {

using testing::Reference;
using testing::two_pass_stats;

constexpr double kRel = 1e-12;


Reference two_pass(const std::vector<double>& values) { return two_pass_stats({values})[0]; }

double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double rel_error(double actual, double expected) {
  return std::fabs(actual - expected) / std::fabs(expected);
}

void expect_rel(double actual, double expected, const char* what) {
  EXPECT_LE(std::fabs(actual - expected), kRel * std::fabs(expected))
      << fmt::format("{}: {} vs {} (relative {:.3g})", what, actual, expected,
                     rel_error(actual, expected));
}

void expect_matches(const FeatureMoments& m, const Reference& r) {
  EXPECT_EQ(m.count, r.count);
  expect_rel(m.mean, r.mean, "mean");
  expect_rel(m.m2, r.m2, "m2");
  expect_rel(m.stddev(), std::sqrt(r.m2 / static_cast<double>(r.count)), "stddev");
}

void expect_bit_identical(const FeatureMoments& a, const FeatureMoments& b) {
  EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0)
      << fmt::format("({}, {}, {}, {}) vs ({}, {}, {}, {})", a.count, a.mean, a.mean_lo, a.m2,
                     b.count, b.mean, b.mean_lo, b.m2);
}

FeatureMoments moments_of(const std::vector<double>& values, size_t begin, size_t end) {
  FeatureMoments m;
  for (size_t i = begin; i < end; ++i) m.add(values[i]);
  return m;
}

// Offsets from 0 to 1e12 with spreads from 1e-3 to 1e3: well- and ill-conditioned data.
std::vector<double> mixed_data(size_t n, double offset, double spread, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = offset + spread * (uniform(rng) - 0.25);
  return v;
}

TEST(FeatureMoments, WelfordMatchesClosedFormForOneToN) {
  for (const int64_t n : {int64_t{1}, int64_t{2}, int64_t{10}, int64_t{1001}, int64_t{100000}}) {
    FeatureMoments m;
    for (int64_t i = 1; i <= n; ++i) m.add(static_cast<double>(i));
    const double nd = static_cast<double>(n);
    EXPECT_EQ(m.count, n);
    EXPECT_DOUBLE_EQ(m.mean, (nd + 1.0) / 2.0) << n;
    if (n == 1) {
      EXPECT_EQ(m.m2, 0.0);
      EXPECT_EQ(m.variance(), 0.0);
      continue;
    }
    expect_rel(m.variance(), (nd * nd - 1.0) / 12.0, "population variance of 1..n");
    expect_rel(m.stddev(), std::sqrt((nd * nd - 1.0) / 12.0), "stddev of 1..n");
  }
}

TEST(FeatureMoments, EmptyHasNanVarianceConstantHasZero) {
  const FeatureMoments empty;
  EXPECT_EQ(empty.count, 0);
  EXPECT_TRUE(std::isnan(empty.variance()));
  EXPECT_TRUE(std::isnan(empty.stddev()));
  FeatureMoments a, b;
  for (int i = 0; i < 1000; ++i) (i < 300 ? a : b).add(1e9 + 0.1);
  a.merge(b);
  EXPECT_EQ(a.count, 1000);
  EXPECT_EQ(a.mean, 1e9 + 0.1);
  EXPECT_EQ(a.m2, 0.0);
  EXPECT_EQ(a.stddev(), 0.0);
}

TEST(FeatureMoments, MergeOfAnySplitMatchesSequentialAdd) {
  for (const double offset : {0.0, 1e6, 1e12})
    for (const double spread : {1e-3, 1.0, 1e3}) {
      const auto v = mixed_data(64, offset, spread, 7);
      const FeatureMoments all = moments_of(v, 0, v.size());
      for (size_t cut = 0; cut <= v.size(); ++cut) {  // every two-way split
        FeatureMoments left = moments_of(v, 0, cut);
        left.merge(moments_of(v, cut, v.size()));
        EXPECT_EQ(left.count, all.count);
        expect_rel(left.mean, all.mean, "mean after two-way merge");
        expect_rel(left.m2, all.m2, "m2 after two-way merge");
      }
    }
  const auto v = mixed_data(20000, 1e9, 1.0, 11);
  const FeatureMoments all = moments_of(v, 0, v.size());
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {  // random k-way splits, some parts empty
    std::vector<size_t> cuts = {0, v.size()};
    for (int k = 0; k < 2 + trial; ++k) cuts.push_back(rng() % (v.size() + 1));
    std::sort(cuts.begin(), cuts.end());
    FeatureMoments merged;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) merged.merge(moments_of(v, cuts[i], cuts[i + 1]));
    EXPECT_EQ(merged.count, all.count);
    expect_rel(merged.mean, all.mean, "mean after k-way merge");
    expect_rel(merged.m2, all.m2, "m2 after k-way merge");
  }
}

TEST(FeatureMoments, MergeWithEmptySidesIsExact) {
  const FeatureMoments a = moments_of(mixed_data(101, 1e9, 1.0, 3), 0, 101);
  FeatureMoments left = a;
  left.merge(FeatureMoments{});
  expect_bit_identical(left, a);
  FeatureMoments right;
  right.merge(a);
  expect_bit_identical(right, a);
  FeatureMoments none;
  none.merge(FeatureMoments{});
  expect_bit_identical(none, FeatureMoments{});
}

// Plain double Welford (no mean_lo): what FeatureMoments would be without the low-order mean.
double plain_welford_m2(const std::vector<double>& values) {
  double mean = 0.0, m2 = 0.0;
  int64_t n = 0;
  for (const double x : values) {
    const double delta = x - mean;
    mean += delta / static_cast<double>(++n);
    m2 += delta * (x - mean);
  }
  return m2;
}

TEST(FeatureMoments, IllConditionedDataMatchesTwoPassWhereNaiveDoesNot) {
  const auto v = mixed_data(100000, 1e9, 1.0, 42);  // 1e9 + U(-0.25, 0.75): condition ~3.5e9
  const Reference ref = two_pass(v);
  expect_matches(moments_of(v, 0, v.size()), ref);
  for (const size_t parts : {size_t{2}, size_t{3}, size_t{7}}) {
    FeatureMoments merged;
    for (size_t p = 0; p < parts; ++p)
      merged.merge(moments_of(v, v.size() * p / parts, v.size() * (p + 1) / parts));
    expect_matches(merged, ref);
  }
  double sum = 0.0, sum_sq = 0.0;
  for (const double x : v) sum += x, sum_sq += x * x;
  const double naive_m2 = sum_sq - sum * sum / static_cast<double>(v.size());
  EXPECT_GT(rel_error(naive_m2, ref.m2), 1e-3);  // measured: ~3e5 (not one digit right)
  EXPECT_GT(rel_error(plain_welford_m2(v), ref.m2), 1e-10);  // measured: ~3e-8
}

TEST(RunningStats, SkipsNonFiniteValuesAndMaskedEntries) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  RunningStats s(3);
  s.add(0, std::numeric_limits<double>::quiet_NaN());
  s.add(0, -std::numeric_limits<double>::infinity());
  s.add(0, 2.0);
  const float rows[4][3] = {
      {1.f, nan, 5.f}, {3.f, inf, -inf}, {100.f, 100.f, 100.f}, {4.f, 6.f, 8.f}};
  const uint8_t row_use[4] = {1, 1, 0, 1};
  s.add_rows(&rows[0][0], 4, row_use);
  const uint8_t use[3] = {1, 0, 1};
  s.add_row(rows[2], use);
  const std::vector<std::vector<double>> expected = {{2, 1, 3, 4, 100}, {6}, {5, 8, 100}};
  const auto ref = two_pass_stats(expected);
  for (int64_t f = 0; f < 3; ++f) expect_matches(s.moments(f), ref[static_cast<size_t>(f)]);
  RunningStats all(3);
  all.add_rows(&rows[0][0], 4);
  EXPECT_EQ(all.counts(), (std::vector<int64_t>{4, 2, 3}));
}

TEST(RunningStats, FloatRowsMatchTwoPassPerFeature) {
  const int64_t rows = 5000, width = 4;
  const double offsets[width] = {0.0, 50.0, 1e4, -3.0};
  const double spreads[width] = {1.0, 0.01, 100.0, 1e-3};
  std::mt19937_64 rng(9);
  std::vector<float> values(static_cast<size_t>(rows * width));
  std::vector<std::vector<double>> per_feature(width);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < width; ++f) {
      const auto x = static_cast<float>(offsets[f] + spreads[f] * uniform(rng));
      values[static_cast<size_t>(r * width + f)] = x;
      per_feature[static_cast<size_t>(f)].push_back(x);
    }
  RunningStats s(width);
  s.add_rows(values.data(), rows);
  const auto ref = two_pass_stats(per_feature);
  for (int64_t f = 0; f < width; ++f) expect_matches(s.moments(f), ref[static_cast<size_t>(f)]);
  RunningStats halves(width), second(width);
  halves.add_rows(values.data(), 1234);
  second.add_rows(values.data() + 1234 * width, rows - 1234);
  halves.merge(second);
  for (int64_t f = 0; f < width; ++f)
    expect_matches(halves.moments(f), ref[static_cast<size_t>(f)]);
}

TEST(RunningStats, ColumnsAndShapeChecks) {
  RunningStats s(2);
  s.add(0, 1.0);
  s.add(0, 3.0);
  EXPECT_EQ(s.counts(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(s.means()[0], 2.0);
  EXPECT_EQ(s.stddevs()[0], 1.0);  // population: sqrt(((1-2)^2 + (3-2)^2) / 2)
  EXPECT_TRUE(std::isnan(s.means()[1]));
  EXPECT_TRUE(std::isnan(s.stddevs()[1]));
  EXPECT_THROW(s.add(2, 1.0), InternalError);
  EXPECT_THROW(s.add(-1, 1.0), InternalError);
  EXPECT_THROW(s.moments(2), InternalError);
  EXPECT_THROW(s.merge(RunningStats(3)), InternalError);
  EXPECT_THROW(RunningStats(-1), InternalError);
  const RunningStats copy(s.moments());
  EXPECT_EQ(copy.features(), 2);
  expect_bit_identical(copy.moments(0), s.moments(0));
}

}  // namespace
}  // namespace tickstream
