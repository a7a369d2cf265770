// Shard plan: exactly-once coverage at 1-7 ranks in both modes, equal steps, ownership, epoch order.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "data/shard_plan.hpp"
#include "core/keyed_rng.hpp"

namespace tickstream {

// In Window's namespace so std::sort and == on vectors find them.
static bool operator<(const Window& a, const Window& b) { return std::tie(a.row, a.end) < std::tie(b.row, b.end); }
static bool operator==(const Window& a, const Window& b) { return a.row == b.row && a.end == b.end; }

namespace {

WindowRule make_rule(int64_t seq_len, int64_t horizon, int64_t first, int64_t last) {
  WindowRule r;
  r.seq_len = seq_len;
  r.horizon = horizon;
  r.period.first = first;
  r.period.last = last;
  return r;
}

ShardSpec make_spec(const std::string& mode, int64_t chunk_tickers, int64_t chunk_bars, int64_t batch) {
  ShardSpec s;
  s.mode = mode;
  s.chunk_tickers = chunk_tickers;
  s.chunk_bars = chunk_bars;
  s.batch = batch;
  return s;
}

// Seeded masks: late listings, delistings, a few empty tickers, isolated feature gaps and a
// warm-up after listing, missing labels, no label in the last `horizon` bars before delisting.
ValidityMasks random_masks(int64_t tickers, int64_t bars, int64_t horizon, uint64_t seed) {
  ValidityMasks m;
  m.tickers = tickers;
  m.bars = bars;
  m.features.assign(static_cast<size_t>(tickers * bars), 0);
  m.labels.assign(m.features.size(), 0);
  for (int64_t i = 0; i < tickers; ++i) {
    KeyedRng rng(seed, static_cast<uint64_t>(i), 7);
    if (rng.uniform() < 0.05) continue;  // never listed
    const int64_t list = rng.uniform() < 0.3 ? static_cast<int64_t>(rng.uniform() * bars / 2) : 0;
    const int64_t delist = rng.uniform() < 0.3 ? bars / 2 + static_cast<int64_t>(rng.uniform() * bars / 2) : bars;
    uint8_t* f = m.features.data() + i * bars;
    uint8_t* l = m.labels.data() + i * bars;
    for (int64_t t = list; t < delist; ++t) {
      f[t] = t >= list + 5 && rng.uniform() > 0.02;
      l[t] = f[t] && t + horizon < delist && rng.uniform() > 0.03;
    }
  }
  return m;
}

std::vector<Window> all_windows(const ValidityMasks& m, const WindowRule& rule) {
  std::vector<Window> out;
  for (int64_t i = 0; i < m.tickers; ++i)
    append_windows(m.features.data() + i * m.bars, m.labels.data() + i * m.bars, m.bars,
                   static_cast<int32_t>(i), rule, out);
  return out;
}

// Ownership is contiguous along the mode's axis and whole per block: the owner is a
// non-decreasing function of the block start.
void expect_contiguous(const ShardPlan& plan, const std::string& mode) {
  std::map<int64_t, int> block_owner;
  for (size_t i = 0; i < plan.tiles.size(); ++i) {
    const int64_t key = mode == "time" ? plan.tiles[i].bar_begin : plan.tiles[i].row_begin;
    const auto [it, fresh] = block_owner.emplace(key, plan.owner[i]);
    EXPECT_TRUE(fresh || it->second == plan.owner[i]) << mode << " block " << key << " split between ranks";
  }
  int previous = 0;
  for (const auto& [key, rank] : block_owner) {
    EXPECT_GE(rank, previous) << mode << " ownership not contiguous at " << key;
    previous = rank;
  }
}

// Every property of one plan against the brute-force window list `expected`.
void check_plan(const ValidityMasks& m, const WindowRule& rule, const ShardSpec& spec, int ranks,
                const std::vector<Window>& expected) {
  SCOPED_TRACE(spec.mode + " ranks " + std::to_string(ranks) + " tile " + std::to_string(spec.chunk_tickers) +
               "x" + std::to_string(spec.chunk_bars));
  const ShardPlan plan = make_shard_plan(m, rule, spec, ranks);
  ASSERT_EQ(plan.owner.size(), plan.tiles.size());
  ASSERT_EQ(plan.tile_windows.size(), plan.tiles.size());
  EXPECT_EQ(plan.ranks, ranks);
  for (size_t i = 1; i < plan.tiles.size(); ++i)  // store order
    EXPECT_LT(std::tie(plan.tiles[i - 1].row_begin, plan.tiles[i - 1].bar_begin),
              std::tie(plan.tiles[i].row_begin, plan.tiles[i].bar_begin));
  std::vector<Window> seen;
  std::vector<int> owned_by(plan.tiles.size(), 0);
  int64_t max_steps = 0, total = 0;
  for (int r = 0; r < ranks; ++r) {
    const int64_t windows = plan.windows_of(r);
    EXPECT_GT(windows, 0) << "rank " << r;
    total += windows;
    max_steps = std::max(max_steps, (windows + spec.batch - 1) / spec.batch);
    for (int64_t t : plan.tiles_of(r)) {
      ++owned_by[static_cast<size_t>(t)];
      const Tile& tile = plan.tiles[static_cast<size_t>(t)];
      const std::vector<Window> w = tile_windows(m, rule, tile);
      EXPECT_EQ(static_cast<int64_t>(w.size()), plan.tile_windows[static_cast<size_t>(t)]);
      EXPECT_GT(w.size(), 0u);
      EXPECT_TRUE(std::is_sorted(w.begin(), w.end()));
      for (const Window& x : w) {
        EXPECT_TRUE(x.row >= tile.row_begin && x.row < tile.row_begin + tile.rows);
        EXPECT_TRUE(x.end >= tile.bar_begin && x.end < tile.bar_begin + tile.bars);
        // Training period only: no end (or label horizon) in the validation/test bars.
        EXPECT_TRUE(x.end >= rule.period.first && x.end + rule.horizon <= rule.period.last)
            << "window (" << x.row << ", " << x.end << ") outside the training period";
      }
      seen.insert(seen.end(), w.begin(), w.end());
    }
  }
  for (size_t t = 0; t < owned_by.size(); ++t) EXPECT_EQ(owned_by[t], 1) << "tile " << t;
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_TRUE(seen == expected) << "union over ranks differs from the window index";
  EXPECT_EQ(total, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(plan.steps_per_epoch, max_steps);
  expect_contiguous(plan, spec.mode);
}

TEST(ShardPlan, ExactlyOnceCoverageAtEveryRankCountInBothModes) {
  const int64_t horizon = 2;
  const ValidityMasks m = random_masks(45, 400, horizon, 11);
  // Training bars [40, 300]; validation and test bars after 300 hold plenty of valid labels.
  const WindowRule rule = make_rule(16, horizon, 40, 300);
  const std::vector<Window> expected = all_windows(m, rule);
  ASSERT_GT(expected.size(), 5000u);
  for (const std::string mode : {"tickers", "time"})
    for (int ranks : {1, 2, 3, 5, 7})
      for (const auto& [ct, cb] : std::vector<std::pair<int64_t, int64_t>>{{3, 17}, {5, 32}, {4, 7}})
        check_plan(m, rule, make_spec(mode, ct, cb, 64), ranks, expected);
  // One tile per block along the other axis.
  check_plan(m, rule, make_spec("tickers", 4, 1000, 100), 3, expected);
  check_plan(m, rule, make_spec("time", 1000, 20, 100), 3, expected);
}

TEST(ShardPlan, NoTileHoldsValidationWindows) {
  const ValidityMasks m = random_masks(20, 300, 1, 5);
  const WindowRule train = make_rule(8, 1, 0, 199);  // validation from bar 200
  const ShardPlan plan = make_shard_plan(m, train, make_spec("time", 6, 25, 32), 2);
  int64_t last_end = 0;
  for (const Tile& tile : plan.tiles) {
    EXPECT_LT(tile.bar_begin, 199);  // no tile wholly in validation
    for (const Window& w : tile_windows(m, train, tile)) last_end = std::max<int64_t>(last_end, w.end);
  }
  EXPECT_LE(last_end, 198);
  // A validation rule on the same masks gives disjoint windows.
  const std::vector<Window> valid = all_windows(m, make_rule(8, 1, 200, 299));
  ASSERT_FALSE(valid.empty());
  for (const Window& w : valid) EXPECT_GE(w.end, 200);
}

TEST(ShardPlan, EqualStepsAndShortfallCount) {
  const ValidityMasks m = random_masks(30, 250, 1, 3);
  const WindowRule rule = make_rule(10, 1, 0, 249);
  for (const std::string mode : {"tickers", "time"}) {
    const ShardPlan plan = make_shard_plan(m, rule, make_spec(mode, 4, 30, 50), 3);
    int64_t most = 0;
    for (int r = 0; r < 3; ++r) most = std::max(most, plan.windows_of(r));
    EXPECT_EQ(plan.steps_per_epoch, (most + 49) / 50);
    for (int r = 0; r < 3; ++r) EXPECT_LE(plan.windows_of(r), plan.steps_per_epoch * 50);
  }
}

// 4 tickers x 10 bars, seq_len 3, horizon 1, period [0, 9]: ends 2..8. Row 1 misses features at
// bar 5 (ends 2, 3, 4, 8), row 3 misses the label at bar 3 (ends 2, 4..8). Tiles 2 x 4.
ValidityMasks hand_masks() {
  ValidityMasks m;
  m.tickers = 4;
  m.bars = 10;
  m.features.assign(40, 1);
  m.labels.assign(40, 1);
  m.features[1 * 10 + 5] = 0;
  m.labels[1 * 10 + 5] = 0;
  m.labels[3 * 10 + 3] = 0;
  return m;
}

TEST(ShardPlan, ClosedFormSmallCase) {
  const ValidityMasks m = hand_masks();
  const WindowRule rule = make_rule(3, 1, 0, 9);
  // Bar blocks [0,4) [4,8) [8,10): rows 0, 2: 2 4 1; row 1: 2 1 1; row 3: 1 4 1.
  ShardPlan p = make_shard_plan(m, rule, make_spec("tickers", 2, 4, 5), 2);
  ASSERT_EQ(p.tiles.size(), 6u);
  EXPECT_EQ(p.tile_windows, (std::vector<int64_t>{4, 5, 2, 3, 8, 2}));
  EXPECT_EQ(p.tiles[4].row_begin, 2);
  EXPECT_EQ(p.tiles[4].bar_begin, 4);
  EXPECT_EQ(p.tiles[5].bars, 2);
  EXPECT_EQ(p.tiles[5].read_begin(3), 6);
  // Ticker blocks weigh 11 and 13: midpoints 0.23 and 0.73 of the total.
  EXPECT_EQ(p.owner, (std::vector<int>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(p.windows_of(0), 11);
  EXPECT_EQ(p.windows_of(1), 13);
  EXPECT_EQ(p.steps_per_epoch, 3);
  EXPECT_TRUE(tile_windows(m, rule, p.tiles[1]) ==
              (std::vector<Window>{{0, 4}, {0, 5}, {0, 6}, {0, 7}, {1, 4}}));
  // Time: bar blocks weigh 7, 13, 4 (midpoints 0.15, 0.56, 0.92 of 24).
  p = make_shard_plan(m, rule, make_spec("time", 2, 4, 5), 2);
  EXPECT_EQ(p.owner, (std::vector<int>{0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(p.tiles_of(0), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(p.windows_of(0), 7);
  EXPECT_EQ(p.windows_of(1), 17);
  EXPECT_EQ(p.steps_per_epoch, 4);
  p = make_shard_plan(m, rule, make_spec("time", 2, 4, 5), 3);
  EXPECT_EQ(p.owner, (std::vector<int>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(p.steps_per_epoch, 3);
}

TEST(ShardPlan, EpochOrderIsAKeyedPermutation) {
  const ValidityMasks m = random_masks(40, 300, 1, 9);
  const ShardPlan plan = make_shard_plan(m, make_rule(8, 1, 0, 299), make_spec("tickers", 2, 20, 64), 2);
  for (int r = 0; r < 2; ++r) {
    std::vector<int64_t> own = plan.tiles_of(r);
    ASSERT_GE(own.size(), 20u);
    for (int64_t epoch = 0; epoch < 4; ++epoch) {
      std::vector<int64_t> order = plan.epoch_order(r, 42, epoch);
      EXPECT_EQ(order, plan.epoch_order(r, 42, epoch));  // deterministic
      EXPECT_NE(order, own);                               // shuffled
      std::sort(order.begin(), order.end());
      EXPECT_EQ(order, own);  // a permutation of the rank's tiles
    }
    EXPECT_NE(plan.epoch_order(r, 42, 0), plan.epoch_order(r, 42, 1));
    EXPECT_NE(plan.epoch_order(r, 42, 0), plan.epoch_order(r, 43, 0));
  }
  // Ranks draw different streams: two ranks with ten tiles each shuffle them differently.
  ShardPlan even;
  even.tiles.resize(20);
  even.tile_windows.assign(20, 1);
  even.owner = std::vector<int>(10, 0);
  even.owner.resize(20, 1);
  std::vector<int64_t> second = even.epoch_order(1, 42, 0);
  for (int64_t& t : second) t -= 10;
  EXPECT_NE(even.epoch_order(0, 42, 0), second);
}

template <typename F>
void expect_input_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError; expected one containing: " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ShardPlan, BadInputNamesTheKey) {
  const ValidityMasks m = hand_masks();
  const WindowRule rule = make_rule(3, 1, 0, 9);
  expect_input_error([&] { make_shard_plan(m, rule, make_spec("rows", 2, 4, 5), 1); }, "[data] shard");
  expect_input_error([&] { make_shard_plan(m, rule, make_spec("tickers", 0, 4, 5), 1); },
                     "[loader] chunk_tickers/chunk_bars");
  expect_input_error([&] { make_shard_plan(m, rule, make_spec("time", 2, -1, 5), 1); },
                     "[loader] chunk_tickers/chunk_bars");
  // Two ticker blocks cannot feed three ranks; one bar block cannot feed two.
  expect_input_error([&] { make_shard_plan(m, rule, make_spec("tickers", 2, 4, 5), 3); },
                     "use fewer ranks or smaller [loader] chunk_tickers / chunk_bars");
  expect_input_error([&] { make_shard_plan(m, rule, make_spec("time", 1, 10, 5), 2); },
                     "rank 0 of 2 gets no training windows");
  // A period too short for any window.
  expect_input_error([&] { make_shard_plan(m, make_rule(3, 1, 0, 2), make_spec("time", 2, 4, 5), 1); },
                     "no training windows");
}

TEST(ShardPlan, LargeStorePlansQuickly) {
  const int64_t n = 5000, t = 5000;
  ValidityMasks m;
  m.tickers = n;
  m.bars = t;
  m.features.resize(static_cast<size_t>(n * t));
  m.labels.resize(m.features.size());
  for (size_t o = 0; o < m.features.size(); ++o) {  // ~1% feature gaps, ~3% missing labels
    const uint64_t h = splitmix64_mix(o);
    m.features[o] = h % 100 != 0;
    m.labels[o] = (h >> 32) % 32 != 0;
  }
  const WindowRule rule = make_rule(64, 1, 0, 3999);
  for (const std::string mode : {"tickers", "time"}) {
    const auto start = std::chrono::steady_clock::now();
    const ShardPlan plan = make_shard_plan(m, rule, make_spec(mode, 256, 1024, 256), 3);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t total = 0;
    for (int64_t w : plan.tile_windows) total += w;
    int64_t expected = 0;
    for (int64_t c : count_windows(m.features, m.labels, n, t, rule)) expected += c;
    EXPECT_EQ(total, expected);
    std::printf("make_shard_plan %s 5000 x 5000: %.3f s\n", mode.c_str(), s);
    EXPECT_LT(s, 5.0);  // loose: catches a rescan per tile, not noise
  }
}

}  // namespace
}  // namespace tickstream
