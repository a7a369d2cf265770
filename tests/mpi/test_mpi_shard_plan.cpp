// Shard plan across real ranks: each rank plans alone; gathered windows cover the store exactly once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "comm/collectives.hpp"
#include "data/shard_plan.hpp"
#include "mpi/mpi_test.hpp"
#include "core/keyed_rng.hpp"

namespace tickstream {
namespace {

using MpiShardPlan = testing::MpiTest;

constexpr int64_t kTickers = 37, kBars = 500, kSeqLen = 20, kHorizon = 3;

// The same masks on every rank (a function of the seed alone): late listings, delistings, gaps.
ValidityMasks masks() {
  ValidityMasks m;
  m.tickers = kTickers;
  m.bars = kBars;
  m.features.assign(static_cast<size_t>(kTickers * kBars), 0);
  m.labels.assign(m.features.size(), 0);
  for (int64_t i = 0; i < kTickers; ++i) {
    KeyedRng rng(2024, static_cast<uint64_t>(i), 3);
    const int64_t list = rng.uniform() < 0.3 ? static_cast<int64_t>(rng.uniform() * 200) : 0;
    const int64_t delist = rng.uniform() < 0.3 ? 300 + static_cast<int64_t>(rng.uniform() * 200) : kBars;
    for (int64_t t = list; t < delist; ++t) {
      const size_t o = static_cast<size_t>(i * kBars + t);
      m.features[o] = rng.uniform() > 0.01;
      m.labels[o] = m.features[o] && t + kHorizon < delist && rng.uniform() > 0.05;
    }
  }
  return m;
}

WindowRule rule() {
  WindowRule r;
  r.seq_len = kSeqLen;
  r.horizon = kHorizon;
  r.period.first = 30;
  r.period.last = 420;  // validation from bar 421
  return r;
}

std::vector<int64_t> flat(const std::vector<Window>& w) {
  std::vector<int64_t> out;
  for (const Window& x : w) out.push_back(int64_t{x.row} * kBars + x.end);
  return out;
}

void check_mode(comm::Communicator& comm, int rank, int size, const std::string& mode) {
  SCOPED_TRACE(mode);
  const ValidityMasks m = masks();
  const WindowRule r = rule();
  ShardSpec spec;
  spec.mode = mode;
  spec.chunk_tickers = 4;
  spec.chunk_bars = 40;
  spec.batch = 32;
  const ShardPlan plan = make_shard_plan(m, r, spec, size);

  // This rank's windows, read in its epoch order.
  std::vector<Window> mine;
  for (int64_t t : plan.epoch_order(rank, 77, 1)) {
    const std::vector<Window> w = tile_windows(m, r, plan.tiles[static_cast<size_t>(t)]);
    mine.insert(mine.end(), w.begin(), w.end());
  }
  EXPECT_EQ(static_cast<int64_t>(mine.size()), plan.windows_of(rank));
  EXPECT_GT(mine.size(), 0u);

  std::vector<int64_t> all = flat(comm::allgatherv(comm, mine));
  std::sort(all.begin(), all.end());
  std::vector<Window> reference;
  for (int64_t i = 0; i < kTickers; ++i)
    append_windows(m.features.data() + i * kBars, m.labels.data() + i * kBars, kBars, static_cast<int32_t>(i), r,
                   reference);
  EXPECT_EQ(all.size(), reference.size());
  EXPECT_TRUE(all == flat(reference)) << "gathered windows are not the store's windows exactly once";
  EXPECT_TRUE(std::adjacent_find(all.begin(), all.end()) == all.end()) << "a window read twice";
  for (int64_t key : all) EXPECT_LE(key % kBars + kHorizon, r.period.last);

  // Every rank agrees on the step count, the tiles and the owners; counts match what each read.
  const std::vector<int64_t> steps = comm::allgather<int64_t>(comm, plan.steps_per_epoch);
  const std::vector<int64_t> counts = comm::allgather<int64_t>(comm, static_cast<int64_t>(mine.size()));
  int64_t most = 0;
  for (int q = 0; q < size; ++q) {
    EXPECT_EQ(steps[static_cast<size_t>(q)], plan.steps_per_epoch) << "rank " << q;
    EXPECT_EQ(counts[static_cast<size_t>(q)], plan.windows_of(q)) << "rank " << q;
    most = std::max(most, counts[static_cast<size_t>(q)]);
  }
  EXPECT_EQ(plan.steps_per_epoch, (most + spec.batch - 1) / spec.batch);
  const std::vector<int> owners = comm::allgatherv(comm, plan.owner);
  ASSERT_EQ(owners.size(), plan.owner.size() * static_cast<size_t>(size));
  for (size_t q = 0; q < static_cast<size_t>(size); ++q)
    EXPECT_TRUE(std::equal(plan.owner.begin(), plan.owner.end(), owners.begin() + static_cast<std::ptrdiff_t>(q * plan.owner.size())))
        << "rank " << q << " planned different owners";
}

TEST_F(MpiShardPlan, TickersModeCoversEveryWindowOnce) { check_mode(comm(), rank(), size(), "tickers"); }

TEST_F(MpiShardPlan, TimeModeCoversEveryWindowOnce) { check_mode(comm(), rank(), size(), "time"); }

}  // namespace
}  // namespace tickstream
