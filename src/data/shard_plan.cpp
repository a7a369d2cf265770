// Shard plan: tiles of training windows, balanced contiguous ownership by rank, keyed epoch order.
//
// Shortfall rule: every rank runs steps_per_epoch = max over ranks of ceil(windows_of(rank) /
// batch) steps per epoch (docs/loader.md). A rank with fewer windows than steps_per_epoch * batch
// keeps drawing after its epoch sequence ends by wrapping around to the start of that same
// sequence (its own tiles, same order): the consumer does the wrap, the plan only fixes the count.
// Every training window is still drawn at least once per epoch, and exactly once on the rank(s)
// with the most batches' worth of windows; the re-drawn windows all come from the rank's own shard.
#include "data/shard_plan.hpp"

#include <algorithm>
#include <climits>

#include "core/error.hpp"
#include "core/partition.hpp"
#include "core/keyed_rng.hpp"
#include "store/h5.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

constexpr uint64_t kEpochOrderPurpose = 0x5348415244ULL;  // "SHARD"

// Window-end bounds of a rule on a store of `bars` bars: ends in [first, last] (maybe empty).
struct EndBounds {
  int64_t first = 0, last = -1;
};

EndBounds end_bounds(const WindowRule& rule, int64_t bars) {
  EndBounds b;
  b.first = std::max<int64_t>(rule.period.first, 0);
  b.last = std::min<int64_t>(rule.period.last - rule.horizon, bars - 1);
  return b;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_spec(const ValidityMasks& masks, const WindowRule& rule, const ShardSpec& spec, int ranks) {
  TS_REQUIRE_INPUT(spec.mode == "tickers" || spec.mode == "time",
                   "[data] shard: '{}' is not a shard mode (expected \"tickers\" or \"time\")", spec.mode);
  TS_REQUIRE_INPUT(spec.chunk_tickers >= 1 && spec.chunk_bars >= 1,
                   "[loader] chunk_tickers/chunk_bars: tile shape {} x {} must be at least 1 x 1",
                   spec.chunk_tickers, spec.chunk_bars);
  TS_REQUIRE_INPUT(spec.batch >= 1, "[train] batch_size: {} must be at least 1", spec.batch);
  TS_REQUIRE_INPUT(rule.seq_len >= 1, "[model] seq_len: {} must be at least 1", rule.seq_len);
  TS_CHECK(ranks >= 1, "shard plan for {} ranks", ranks);
  TS_CHECK(masks.tickers >= 0 && masks.bars >= 0 && masks.tickers < INT32_MAX && masks.bars < INT32_MAX,
           "shard plan: store shape {} x {} out of range", masks.tickers, masks.bars);
  const size_t cells = static_cast<size_t>(masks.tickers * masks.bars);
  TS_CHECK(masks.features.size() == cells && masks.labels.size() == cells,
           "shard plan: masks hold {} / {} cells, store shape {} x {}", masks.features.size(),
           masks.labels.size(), masks.tickers, masks.bars);
}

// Training windows per (ticker block, bar block), row-major [ticker_blocks, bar_blocks]: one pass
// per row over the bars that can hold a window or its history.
std::vector<int64_t> block_counts(const ValidityMasks& masks, const WindowRule& rule, const ShardSpec& spec,
                                  int64_t bar_blocks) {
  const int64_t ticker_blocks = ceil_div(masks.tickers, spec.chunk_tickers);
  std::vector<int64_t> counts(static_cast<size_t>(ticker_blocks * bar_blocks), 0);
  const EndBounds b = end_bounds(rule, masks.bars);
  if (b.first > b.last) return counts;
  const int64_t scan_begin = std::max<int64_t>(b.first - rule.span() + 1, 0);
  for (int64_t row = 0; row < masks.tickers; ++row) {
    const size_t o = static_cast<size_t>(row * masks.bars);
    WindowScan scan = rule_scan(rule, masks.features.data() + o, masks.labels.data() + o, b.first);
    int64_t* row_counts = counts.data() + (row / spec.chunk_tickers) * bar_blocks;
    for (int64_t block = scan_begin / spec.chunk_bars; block * spec.chunk_bars <= b.last; ++block) {
      const int64_t stop = std::min((block + 1) * spec.chunk_bars, b.last + 1);
      int64_t n = 0;
      for (int64_t t = std::max(block * spec.chunk_bars, scan_begin); t < stop; ++t) n += scan.ends_window(t);
      row_counts[block] += n;
    }
  }
  return counts;
}

// Owner rank of each tile: whole blocks of the mode's axis, contiguous, balanced by window count.
std::vector<int> tile_owners(const ShardPlan& plan, const std::vector<int64_t>& counts, const ShardSpec& spec,
                             int64_t ticker_blocks, int64_t bar_blocks, int ranks) {
  const bool by_time = spec.mode == "time";
  std::vector<int64_t> weights(static_cast<size_t>(by_time ? bar_blocks : ticker_blocks), 0);
  for (int64_t tb = 0; tb < ticker_blocks; ++tb)
    for (int64_t bb = 0; bb < bar_blocks; ++bb)
      weights[static_cast<size_t>(by_time ? bb : tb)] += counts[static_cast<size_t>(tb * bar_blocks + bb)];
  const std::vector<int> block_owner = balanced_owners(weights, ranks);
  std::vector<int> owner;
  owner.reserve(plan.tiles.size());
  for (const Tile& tile : plan.tiles) {
    const int64_t block = by_time ? tile.bar_begin / spec.chunk_bars : tile.row_begin / spec.chunk_tickers;
    owner.push_back(block_owner[static_cast<size_t>(block)]);
  }
  return owner;
}

}  // namespace

ShardPlan make_shard_plan(const ValidityMasks& masks, const WindowRule& rule, const ShardSpec& spec, int ranks) {
  check_spec(masks, rule, spec, ranks);
  const int64_t ticker_blocks = ceil_div(masks.tickers, spec.chunk_tickers);
  const int64_t bar_blocks = ceil_div(masks.bars, spec.chunk_bars);
  const std::vector<int64_t> counts = block_counts(masks, rule, spec, bar_blocks);

  ShardPlan plan;
  plan.ranks = ranks;
  plan.batch = spec.batch;
  for (int64_t tb = 0; tb < ticker_blocks; ++tb) {
    for (int64_t bb = 0; bb < bar_blocks; ++bb) {
      const int64_t n = counts[static_cast<size_t>(tb * bar_blocks + bb)];
      if (n == 0) continue;
      Tile tile;
      tile.row_begin = tb * spec.chunk_tickers;
      tile.rows = std::min(spec.chunk_tickers, masks.tickers - tile.row_begin);
      tile.bar_begin = bb * spec.chunk_bars;
      tile.bars = std::min(spec.chunk_bars, masks.bars - tile.bar_begin);
      plan.tiles.push_back(tile);
      plan.tile_windows.push_back(n);
    }
  }
  TS_REQUIRE_INPUT(!plan.tiles.empty(),
                   "[data] shard: no training windows (seq_len {} + horizon {} over bars [{}, {}] of a {} x {} "
                   "store); check [data] train_start / train_end and [model] seq_len",
                   rule.seq_len, rule.horizon, rule.period.first, rule.period.last, masks.tickers, masks.bars);
  plan.owner = tile_owners(plan, counts, spec, ticker_blocks, bar_blocks, ranks);

  for (int r = 0; r < ranks; ++r) {
    const int64_t windows = plan.windows_of(r);
    TS_REQUIRE_INPUT(windows > 0,
                     "[data] shard: rank {} of {} gets no training windows in mode \"{}\" ({} tiles of {} x {}); "
                     "use fewer ranks or smaller [loader] chunk_tickers / chunk_bars",
                     r, ranks, spec.mode, plan.tiles.size(), spec.chunk_tickers, spec.chunk_bars);
    plan.steps_per_epoch = std::max(plan.steps_per_epoch, ceil_div(windows, spec.batch));
  }
  return plan;
}

std::vector<int64_t> ShardPlan::tiles_of(int rank) const {
  std::vector<int64_t> out;
  for (size_t i = 0; i < owner.size(); ++i)
    if (owner[i] == rank) out.push_back(static_cast<int64_t>(i));
  return out;
}

int64_t ShardPlan::windows_of(int rank) const {
  int64_t n = 0;
  for (size_t i = 0; i < owner.size(); ++i)
    if (owner[i] == rank) n += tile_windows[i];
  return n;
}

std::vector<int64_t> ShardPlan::epoch_order(int rank, uint64_t seed, int64_t epoch) const {
  std::vector<int64_t> order = tiles_of(rank);
  KeyedRng rng(seed, (static_cast<uint64_t>(epoch) << 24) | static_cast<uint64_t>(rank), kEpochOrderPurpose);
  // Fisher-Yates with unbiased draws in [0, i]: reject the low (2^64 mod (i + 1)) values.
  for (size_t i = order.size(); i > 1; --i) {
    const uint64_t bound = static_cast<uint64_t>(i);
    const uint64_t reject_below = (0 - bound) % bound;
    uint64_t x = rng.next();
    while (x < reject_below) x = rng.next();
    std::swap(order[i - 1], order[static_cast<size_t>(x % bound)]);
  }
  return order;
}

std::vector<Window> tile_windows(const ValidityMasks& masks, const WindowRule& rule, const Tile& tile) {
  std::vector<Window> out;
  const EndBounds b = end_bounds(rule, masks.bars);
  const int64_t stop = std::min(tile.bar_begin + tile.bars, b.last + 1);
  if (stop <= std::max(tile.bar_begin, b.first)) return out;
  // History needed by the first end bar of the tile that can hold a window; the count over the
  // span from there is the full row's.
  const int64_t first_end = std::max(tile.bar_begin, b.first);
  const int64_t scan_begin = std::max<int64_t>(first_end - std::max<int64_t>(rule.span(), 1) + 1, 0);
  for (int64_t row = tile.row_begin; row < tile.row_begin + tile.rows; ++row) {
    const size_t o = static_cast<size_t>(row * masks.bars);
    WindowScan scan = rule_scan(rule, masks.features.data() + o, masks.labels.data() + o, first_end);
    for (int64_t t = scan_begin; t < stop; ++t)
      if (scan.ends_window(t)) out.push_back(Window{static_cast<int32_t>(row), static_cast<int32_t>(t)});
  }
  return out;
}

namespace {
constexpr uint64_t kWindowShuffle = 0x57494e44;
}  // namespace

void shuffle_windows(std::vector<Window>& w, uint64_t seed, int64_t epoch, int rank, int64_t tile) {
  KeyedRng rng(seed, (static_cast<uint64_t>(epoch) << 40) ^ (static_cast<uint64_t>(tile) << 16) ^ static_cast<uint64_t>(rank),
               kWindowShuffle);
  for (size_t i = w.size(); i-- > 1;) std::swap(w[i], w[static_cast<size_t>(rng.next() % (i + 1))]);
}

std::vector<double> label_sums(const StoreReader& store, const ValidityMasks& masks, const WindowRule& rule,
                               const std::vector<Tile>& tiles) {
  std::vector<double> sums{0.0, 0.0, 0.0};
  h5::Handle ds = h5::open_dataset(store.root(), store::path::kLabelValues);
  const auto dims = h5::dataset_dims(ds.id());
  for (const Tile& t : tiles) {
    std::vector<float> v(static_cast<size_t>(t.rows * t.bars) * dims[2]);
    h5::read_slab(store.file(), ds.id(), H5T_NATIVE_FLOAT, {hsize_t(t.row_begin), hsize_t(t.bar_begin), 0},
                  {hsize_t(t.rows), hsize_t(t.bars), dims[2]}, v.data());
    for (const Window& w : tile_windows(masks, rule, t)) {
      const double y = v[(static_cast<size_t>(w.row - t.row_begin) * static_cast<size_t>(t.bars) +
                          static_cast<size_t>(w.end - t.bar_begin)) * dims[2]];
      sums[0] += 1.0, sums[1] += y, sums[2] += y * y;
    }
  }
  return sums;
}

}  // namespace tickstream
