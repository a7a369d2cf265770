// allreduce_stats, uneven and empty ranks: bit-identical everywhere, equal to a two-pass reference.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "features/running_stats.hpp"
#include "common/two_pass_stats.hpp"
#include "mpi/mpi_test.hpp"

namespace tickstream {
namespace {

using MpiRunningStats = testing::MpiTest;

constexpr double kRel = 1e-12;
constexpr int64_t kRows = 5003;
constexpr int64_t kFeatures = 5;

using testing::Reference;
using testing::two_pass_stats;

// Row `row` of the global data set, a function of the row alone (every rank can rebuild all of
// it). NaN marks a missing value.
std::vector<double> row_values(int64_t row) {
  std::mt19937_64 rng(0x5eedULL + static_cast<uint64_t>(row));
  auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double u1 = 1.0 - uniform(), u2 = uniform(), u3 = uniform(), u4 = uniform();
  return {
      std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2),  // normal
      1e9 + u3,                                                           // ill-conditioned
      1e-3 * std::exp(4.0 * u4),                                          // skewed, small
      row % 3 == 0 ? nan : 100.0 - 50.0 * u2,                             // a third missing
      row >= kRows - 400 ? 7.0 * u3 : nan,                                // last rank only
  };
}

// Uneven contiguous row ranges; from 3 ranks on, rank 1 owns no rows.
std::pair<int64_t, int64_t> rows_of(int rank, int size) {
  auto bound = [size](int r) {
    if (size >= 3 && r == 1) r = 2;
    return kRows * r * r / (int64_t{size} * size);
  };
  return {bound(rank), bound(rank + 1)};
}

RunningStats stats_of_rows(int64_t begin, int64_t end) {
  RunningStats s(kFeatures);
  for (int64_t row = begin; row < end; ++row) {
    const auto v = row_values(row);
    for (int64_t f = 0; f < kFeatures; ++f) s.add(f, v[static_cast<size_t>(f)]);
  }
  return s;
}

std::vector<Reference> global_reference() {
  std::vector<std::vector<double>> per_feature(kFeatures);
  for (int64_t row = 0; row < kRows; ++row) {
    const auto v = row_values(row);
    for (size_t f = 0; f < per_feature.size(); ++f)
      if (std::isfinite(v[f])) per_feature[f].push_back(v[f]);
  }
  return two_pass_stats(per_feature);
}

void expect_rel(double actual, double expected, const char* what, int64_t feature) {
  EXPECT_LE(std::fabs(actual - expected), kRel * std::fabs(expected))
      << fmt::format("feature {} {}: {} vs {} (relative {:.3g})", feature, what, actual, expected,
                     std::fabs(actual - expected) / std::fabs(expected));
}

bool same_bytes(const std::vector<FeatureMoments>& a, const FeatureMoments* b) {
  return std::memcmp(a.data(), b, a.size() * sizeof(FeatureMoments)) == 0;
}

TEST_F(MpiRunningStats, MergedStatsAreBitIdenticalAndMatchTwoPass) {
  const auto [begin, end] = rows_of(rank(), size());
  const RunningStats merged = allreduce_stats(comm(), stats_of_rows(begin, end));
  ASSERT_EQ(merged.features(), kFeatures);

  // (a) every rank holds the same bytes
  const std::vector<FeatureMoments> everyone = comm::allgatherv(comm(), merged.moments());
  ASSERT_EQ(everyone.size(), static_cast<size_t>(kFeatures * size()));
  for (int r = 0; r < size(); ++r)
    EXPECT_TRUE(same_bytes(merged.moments(), &everyone[static_cast<size_t>(r * kFeatures)]))
        << "rank " << r << " differs from rank " << rank();

  // (b) the two-pass reference over all the data, (c) exact counts
  const auto ref = global_reference();
  for (int64_t f = 0; f < kFeatures; ++f) {
    const FeatureMoments& m = merged.moments(f);
    const Reference& r = ref[static_cast<size_t>(f)];
    EXPECT_EQ(m.count, r.count) << "feature " << f;
    expect_rel(m.mean, r.mean, "mean", f);
    expect_rel(m.m2, r.m2, "m2", f);
    expect_rel(m.stddev(), std::sqrt(r.m2 / static_cast<double>(r.count)), "stddev", f);
  }
  EXPECT_EQ(merged.moments(3).count, kRows - (kRows + 2) / 3);
  EXPECT_EQ(merged.moments(4).count, 400);

  // the fixed order: the same bytes as merging every rank's part locally in rank order
  RunningStats replay(kFeatures);
  for (int r = 0; r < size(); ++r) {
    const auto [b, e] = rows_of(r, size());
    replay.merge(stats_of_rows(b, e));
  }
  EXPECT_TRUE(same_bytes(replay.moments(), merged.moments().data()));
}

TEST_F(MpiRunningStats, EmptyEverywhereGivesEmptyStats) {
  const RunningStats merged = allreduce_stats(comm(), RunningStats(2));
  EXPECT_EQ(merged.counts(), (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(std::isnan(merged.means()[0]));
  EXPECT_TRUE(std::isnan(merged.stddevs()[1]));
  EXPECT_EQ(allreduce_stats(comm(), RunningStats(0)).features(), 0);
}

TEST_F(MpiRunningStats, MismatchedFeatureCountsThrowOnEveryRank) {
  const bool odd_one = size() > 1 && rank() == size() - 1;
  const RunningStats local(odd_one ? 3 : 2);
  if (size() == 1) {
    EXPECT_NO_THROW(allreduce_stats(comm(), local));
  } else {
    EXPECT_THROW(allreduce_stats(comm(), local), InternalError);
  }
}

}  // namespace
}  // namespace tickstream
