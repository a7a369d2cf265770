// What a prediction run scores: the as-of bars, each rank's tickers, and why a ticker is skipped.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/shard_plan.hpp"
#include "store/store_reader.hpp"

namespace tickstream {

// The as-of bars for `--asof D` (from == to == D) or `--from A --to B`: for every UTC day in
// [from, to] that has bars, the day's last bar (daily stores: every bar). A single date with no
// bar of its own (a weekend, a holiday) means the last bar before it. InputError naming `flag`
// when no bar qualifies (the date lies before the store's first bar, or the range is empty).
std::vector<int64_t> asof_bars(const std::vector<int64_t>& time, int64_t from, int64_t to, const std::string& flag);

// The tickers [begin, end) `rank` scores: balanced over ranks in whole groups of `group` rows
// (prediction passes its global tile rows, a multiple of the store's chunk rows: no two ranks read
// the same HDF5 chunk, and every rank's tiles are tiles of the one-rank run); consecutive in rank
// order.
std::pair<int64_t, int64_t> ticker_shard(int64_t tickers, int ranks, int rank, int64_t group);

// Read tiles (data/shard_plan.hpp: end bars [bar_begin, bar_begin + bars) plus seq_len - 1 bars
// (pass the window rule's span as seq_len for a skip store)
// of history) covering `rows` x the as-of bars: rows in blocks of `max_rows` starting at
// rows.first (the last block ends at rows.second), bars cut so a full block's read (`features`
// floats and a mask byte per cell) stays within `budget_bytes`, or one window long when even that
// does not fit. With rows.first a multiple of max_rows, the tiles are fixed global tiles: the same
// at every rank count.
std::vector<Tile> score_tiles(std::pair<int64_t, int64_t> rows, const std::vector<int64_t>& asof, int64_t seq_len,
                              int64_t features, int64_t max_rows, size_t budget_bytes);


// Where a ticker has bars at all: its first and last bar with /raw/valid set (-1 when none).
struct ListingSpan {
  int64_t first = -1, last = -1;
};

// Why the window of `seq_len` bars ending at bar `asof` cannot be scored, given the ticker's
// listing span, whether it has a bar at `asof`, and `run`: strict stores (window_span <= seq_len)
// valid_history(features, asof, seq_len); skip stores valid_in_span(features, asof, window_span,
// seq_len): "no bars in the store", "not listed yet (first bar D)", "delisted (last bar D)" (skip:
// its last bar is older than the window's span), "no bar at the as-of date", "missing features at
// the as-of bar" (strict), "not enough history (K of N bars with features[ within the last S bars])".
std::string skip_reason(const ListingSpan& span, bool bar_at_asof, int64_t run, int64_t seq_len, int64_t asof,
                        const std::vector<int64_t>& time, int64_t window_span = 0);

// Reads /raw/valid of rows [begin, end) block by block and returns each row's listing span and
// the flag at each of `bars` (row-major [rows, bars.size()]). Serial (this rank's handle).
struct RawPresence {
  std::vector<ListingSpan> spans;
  std::vector<uint8_t> at;  // [rows, bars.size()]
};
RawPresence read_raw_presence(const StoreReader& store, int64_t begin, int64_t end, const std::vector<int64_t>& bars);

}  // namespace tickstream
