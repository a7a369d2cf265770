// compute_metrics_distributed over uneven (and empty) rank shares equals compute_metrics bitwise.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <memory>
#include <vector>

#include "comm/collectives.hpp"
#include "comm/mpi_native.hpp"
#include "mpi/mpi_test.hpp"
#include "train/metrics.hpp"

namespace tickstream {
namespace {

using MpiMetrics = testing::MpiTest;

// The timed MPI communicator training evaluates over.
std::unique_ptr<comm::Communicator> communicator() {
  return comm::make_mpi_communicator(MPI_COMM_WORLD, comm::CommOptions{});
}

// The global validation set, the same on every rank: 23 dates of 3..40 samples (some below
// kMinSamplesPerDate), labels on a grid (ties), shuffled so every rank's share mixes dates.
std::vector<EvalSample> global_samples() {
  std::mt19937_64 rng(0x3e7a1ULL);
  std::vector<EvalSample> out;
  for (int32_t date = 0; date < 23; ++date) {
    const int count = 3 + static_cast<int>(rng() % 38);
    for (int i = 0; i < count; ++i) {
      const float label = static_cast<float>(static_cast<int>(rng() % 41) - 20) * 1e-3f;
      const float pred = 0.3f * label + static_cast<float>(static_cast<int>(rng() % 101) - 50) * 1e-4f;
      const float prob_up = static_cast<float>(rng() % 1001) * 1e-3f;
      out.push_back({date * 5, pred, label, prob_up});
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

// Uneven contiguous shares, dealt in reverse (rank r gets chunk size-1-r, chunk c a share growing
// with c^2), so the rank-order concatenation is not the global order; from 3 ranks on, chunk 1
// (rank size-2) is empty.
std::vector<EvalSample> share_of(const std::vector<EvalSample>& all, int rank, int size) {
  auto bound = [&](int c) {
    if (size >= 3 && c == 1) c = 2;
    return static_cast<int64_t>(all.size()) * c * c / (int64_t{size} * size);
  };
  const int chunk = size - 1 - rank;
  return {all.begin() + bound(chunk), all.begin() + bound(chunk + 1)};
}

uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

void expect_bitwise_equal(const EvalMetrics& got, const EvalMetrics& want) {
  EXPECT_EQ(bits(got.mse), bits(want.mse)) << got.mse << " vs " << want.mse;
  EXPECT_EQ(bits(got.dir_acc), bits(want.dir_acc)) << got.dir_acc << " vs " << want.dir_acc;
  EXPECT_EQ(bits(got.ic), bits(want.ic)) << got.ic << " vs " << want.ic;
  EXPECT_EQ(bits(got.rank_ic), bits(want.rank_ic)) << got.rank_ic << " vs " << want.rank_ic;
  EXPECT_EQ(bits(got.icir), bits(want.icir)) << got.icir << " vs " << want.icir;
  EXPECT_EQ(got.samples, want.samples);
  EXPECT_EQ(got.dates, want.dates);
}

TEST_F(MpiMetrics, UnevenSharesGiveTheWholeSetsMetricsBitwise) {
  const auto all = global_samples();
  const auto mine = share_of(all, rank(), size());
  if (size() >= 3 && rank() == size() - 2) {
    EXPECT_TRUE(mine.empty());
  }
  EXPECT_EQ(comm::allreduce<int64_t>(comm(), static_cast<int64_t>(mine.size()), comm::ReduceOp::sum),
            static_cast<int64_t>(all.size()));

  const EvalMetrics want = compute_metrics(all);
  ASSERT_TRUE(std::isfinite(want.ic) && std::isfinite(want.icir)) << want.ic << " " << want.icir;
  ASSERT_GT(want.dates, 10);
  ASSERT_LT(want.dates, 23) << "some dates should be below kMinSamplesPerDate";
  const EvalMetrics got = compute_metrics_distributed(*communicator(), mine);
  expect_bitwise_equal(got, want);

  // And the same on every rank (rank 0's values broadcast).
  EXPECT_EQ(bits(comm::broadcast<double>(comm(), got.ic, 0)), bits(got.ic));
  EXPECT_EQ(bits(comm::broadcast<double>(comm(), got.icir, 0)), bits(got.icir));
}

TEST_F(MpiMetrics, AllRanksEmptyIsUndefinedEverywhere) {
  const EvalMetrics m = compute_metrics_distributed(*communicator(), {});
  EXPECT_EQ(m.samples, 0);
  EXPECT_EQ(m.dates, 0);
  EXPECT_TRUE(std::isnan(m.mse) && std::isnan(m.ic) && std::isnan(m.icir));
}

TEST_F(MpiMetrics, OnlyTheLastRankHasSamples) {
  const auto all = global_samples();
  const bool last = rank() == size() - 1;
  const std::vector<EvalSample> reversed(all.rbegin(), all.rend());
  const EvalMetrics got =
      compute_metrics_distributed(*communicator(), last ? reversed : std::vector<EvalSample>{});
  expect_bitwise_equal(got, compute_metrics(all));
}

}  // namespace
}  // namespace tickstream
