// Shard plan: which rank reads which tiles (ticker block x bar block) of the store in an epoch.
// A pure function of (validity masks, window rule, tile shape, mode, rank count, batch, seed, epoch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/feature_store.hpp"
#include "data/window_index.hpp"

namespace tickstream {

// Windows whose end bar lies in [bar_begin, bar_begin + bars) of tickers [row_begin, row_begin +
// rows). Reading a tile means reading bars [read_begin(), bar_begin + bars): the end bars plus
// seq_len - 1 bars of history.
struct Tile {
  int64_t row_begin = 0, rows = 0, bar_begin = 0, bars = 0;
  int64_t read_begin(int64_t seq_len) const { return bar_begin - seq_len + 1 < 0 ? 0 : bar_begin - seq_len + 1; }
};

struct ShardSpec {
  std::string mode = "tickers";  // "tickers": ranks own ticker ranges; "time": ranks own bar ranges
  int64_t chunk_tickers = 256;   // tile rows
  int64_t chunk_bars = 1024;     // tile end bars
  int64_t batch = 256;           // windows per batch (per rank)
};

struct ShardPlan {
  std::vector<Tile> tiles;             // every tile with at least one training window, in store order
  std::vector<int64_t> tile_windows;   // training windows per tile
  std::vector<int> owner;              // rank of each tile
  int ranks = 1;
  int64_t batch = 0;
  int64_t steps_per_epoch = 0;         // max over ranks of ceil(windows / batch): the same everywhere

  std::vector<int64_t> tiles_of(int rank) const;   // indices into `tiles`, store order
  int64_t windows_of(int rank) const;
  // The order `rank` reads its tiles in `epoch`: a permutation keyed by (seed, epoch, rank).
  std::vector<int64_t> epoch_order(int rank, uint64_t seed, int64_t epoch) const;
};

// Tiles cover the store in chunk_tickers x chunk_bars blocks. Mode "tickers": ticker blocks are
// assigned whole to ranks, contiguous and balanced by training-window count. Mode "time": bar
// blocks are assigned whole to ranks (each across all tickers), contiguous and balanced. Every
// training window lies in exactly one tile, so each is seen exactly once per epoch. InputError
// (naming [data] shard / [loader] keys) on a bad mode or shape, or when a rank gets no windows.
ShardPlan make_shard_plan(const ValidityMasks& masks, const WindowRule& rule, const ShardSpec& spec, int ranks);

// The training windows of one tile, in store order (row-major by ticker, then end bar).
std::vector<Window> tile_windows(const ValidityMasks& masks, const WindowRule& rule, const Tile& tile);

// Label 0 sums (n, sum, sum of squares) over the windows of `rule` in `tiles` (the label scale).
std::vector<double> label_sums(const StoreReader& store, const ValidityMasks& masks, const WindowRule& rule,
                               const std::vector<Tile>& tiles);

// The order of the windows inside one tile for (seed, epoch, rank): a Fisher-Yates shuffle keyed
// by them, so a resumed run draws the same windows.
void shuffle_windows(std::vector<Window>& w, uint64_t seed, int64_t epoch, int rank, int64_t tile);

}  // namespace tickstream
