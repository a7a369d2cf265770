// Welford accumulation, Chan's pairwise merge and the fixed-order MPI reduction of feature moments.
#include "features/running_stats.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "comm/collectives.hpp"
#include "core/error.hpp"

namespace tickstream {
namespace {

// Knuth's TwoSum: s + e == a + b exactly, s = fl(a + b); no ordering precondition on a and b.
void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double b_part = s - a;
  e = (a - (s - b_part)) + (b - b_part);
}

// mean + mean_lo += increment, renormalized so that mean is the sum rounded to double.
void add_to_mean(FeatureMoments& m, double increment) {
  double high = 0.0, low = 0.0;
  two_sum(m.mean, increment, high, low);
  two_sum(high, low + m.mean_lo, m.mean, m.mean_lo);
}

}  // namespace

void FeatureMoments::add(double x) {
  ++count;
  const double delta = (x - mean) - mean_lo;  // x minus the old mean
  add_to_mean(*this, delta / static_cast<double>(count));
  m2 += delta * ((x - mean) - mean_lo);  // (x - old mean) * (x - new mean)
}

void FeatureMoments::merge(const FeatureMoments& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  const double n_a = static_cast<double>(count);
  const double n_b = static_cast<double>(other.count);
  const double n = static_cast<double>(count + other.count);
  const double delta = (other.mean - mean) + (other.mean_lo - mean_lo);
  m2 = (m2 + other.m2) + delta * delta * (n_a * n_b / n);
  add_to_mean(*this, delta * (n_b / n));
  count += other.count;
}

double FeatureMoments::variance() const {
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  return m2 / static_cast<double>(count);
}

double FeatureMoments::stddev() const { return std::sqrt(variance()); }

RunningStats::RunningStats(int64_t features) {
  TS_CHECK(features >= 0, "RunningStats: {} features", features);
  moments_.resize(static_cast<size_t>(features));
}

RunningStats::RunningStats(std::vector<FeatureMoments> moments) : moments_(std::move(moments)) {}

void RunningStats::add(int64_t feature, double x) {
  TS_CHECK(feature >= 0 && feature < features(), "RunningStats::add: feature {} of {}", feature,
           features());
  if (std::isfinite(x)) moments_[static_cast<size_t>(feature)].add(x);
}

void RunningStats::add_row(const float* values, const uint8_t* use) {
  for (size_t f = 0; f < moments_.size(); ++f) {
    if (use != nullptr && use[f] == 0) continue;
    if (std::isfinite(values[f])) moments_[f].add(static_cast<double>(values[f]));
  }
}

void RunningStats::add_rows(const float* values, int64_t rows, const uint8_t* row_use) {
  TS_CHECK(rows >= 0, "RunningStats::add_rows: {} rows", rows);
  // The rows' own moments in two passes (sums; then deviations from their mean, whose sum is the
  // mean's rounding: mean_lo), merged with Chan's update: no division per value, and the inner
  // loops run across features. Non-finite values are skipped as in add().
  const size_t width = moments_.size();
  std::vector<double> sum(width, 0.0), dev(width, 0.0), sq(width, 0.0), mean(width, 0.0);
  std::vector<int64_t> count(width, 0);
  const auto finite = [](float x) { return std::fabs(x) <= std::numeric_limits<float>::max(); };  // NaN: false
  for (int64_t r = 0; r < rows; ++r) {
    if (row_use != nullptr && row_use[r] == 0) continue;
    const float* x = values + static_cast<size_t>(r) * width;
    for (size_t f = 0; f < width; ++f) {
      const bool ok = finite(x[f]);
      sum[f] += ok ? static_cast<double>(x[f]) : 0.0, count[f] += ok ? 1 : 0;
    }
  }
  for (size_t f = 0; f < width; ++f) mean[f] = count[f] > 0 ? sum[f] / static_cast<double>(count[f]) : 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    if (row_use != nullptr && row_use[r] == 0) continue;
    const float* x = values + static_cast<size_t>(r) * width;
    for (size_t f = 0; f < width; ++f) {
      const double d = finite(x[f]) ? static_cast<double>(x[f]) - mean[f] : 0.0;
      dev[f] += d, sq[f] += d * d;
    }
  }
  for (size_t f = 0; f < width; ++f) {
    if (count[f] == 0) continue;
    FeatureMoments block;
    const auto n = static_cast<double>(count[f]);
    block.count = count[f];
    two_sum(mean[f], dev[f] / n, block.mean, block.mean_lo);
    block.m2 = sq[f] - dev[f] * (dev[f] / n);
    moments_[f].merge(block);
  }
}

void RunningStats::merge(const RunningStats& other) {
  TS_CHECK(other.features() == features(), "RunningStats::merge: {} features into {}",
           other.features(), features());
  for (size_t f = 0; f < moments_.size(); ++f) moments_[f].merge(other.moments_[f]);
}

const FeatureMoments& RunningStats::moments(int64_t feature) const {
  TS_CHECK(feature >= 0 && feature < features(), "RunningStats::moments: feature {} of {}",
           feature, features());
  return moments_[static_cast<size_t>(feature)];
}

std::vector<int64_t> RunningStats::counts() const {
  std::vector<int64_t> out;
  out.reserve(moments_.size());
  for (const auto& m : moments_) out.push_back(m.count);
  return out;
}

std::vector<double> RunningStats::means() const {
  std::vector<double> out;
  out.reserve(moments_.size());
  for (const auto& m : moments_) out.push_back(m.count == 0 ? std::nan("") : m.mean);
  return out;
}

std::vector<double> RunningStats::stddevs() const {
  std::vector<double> out;
  out.reserve(moments_.size());
  for (const auto& m : moments_) out.push_back(m.stddev());
  return out;
}

RunningStats merge_blocks(comm::Communicator& comm, const std::vector<RunningStats>& blocks, int64_t features) {
  const std::vector<int64_t> widths = comm::allgather<int64_t>(comm, features);
  for (size_t r = 0; r < widths.size(); ++r)
    TS_CHECK(widths[r] == widths[0], "merge_blocks: rank {} has {} features, rank 0 has {}", r, widths[r], widths[0]);
  std::vector<FeatureMoments> mine;
  for (const RunningStats& b : blocks) {
    TS_CHECK(b.features() == features, "merge_blocks: a block of {} features, expected {}", b.features(), features);
    mine.insert(mine.end(), b.moments().begin(), b.moments().end());
  }
  const std::vector<FeatureMoments> all = comm::allgatherv(comm, mine);
  const auto width = static_cast<size_t>(features);
  RunningStats merged(features);
  for (size_t at = 0; width > 0 && at < all.size(); at += width) {  // block order, the same on every rank
    const auto first = all.begin() + static_cast<std::ptrdiff_t>(at);
    merged.merge(RunningStats(std::vector<FeatureMoments>(first, first + static_cast<std::ptrdiff_t>(width))));
  }
  return merged;
}

RunningStats allreduce_stats(comm::Communicator& comm, const RunningStats& local) {
  return merge_blocks(comm, {local}, local.features());
}

}  // namespace tickstream
