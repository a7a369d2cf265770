// Sample windows (ticker row, end bar) with a full valid history and a realized label in a period.
#pragma once

#include <cstdint>
#include <vector>

namespace tickstream {

// Inclusive bar indices [first, last] of a period; empty when first > last.
struct BarRange {
  int64_t first = 0, last = -1;
  bool empty() const { return first > last; }
  int64_t size() const { return empty() ? 0 : last - first + 1; }
};

// The bars of `time` within [start, end] (seconds). start 0 = from the first bar, end 0 = to the
// last; a date-only end (00:00 UTC) includes every bar of that day (intraday stores).
BarRange period_bars(const std::vector<int64_t>& time, int64_t start, int64_t end);

struct Window {
  int32_t row = 0;  // ticker index in the store
  int32_t end = 0;  // bar index of the window's last bar (the prediction is made at its close)
};

struct WindowRule {
  int64_t seq_len = 64;
  int64_t horizon = 1;
  BarRange period;  // end bars in the period, with end + horizon still inside it (no label leaks
                    // across the period boundary)
};

// Appends the windows of one ticker: `seq_len` bars ending at `end` with valid features, a valid
// label at `end`, and `end` within the rule's period. Masks are the ticker's [bars] rows.
void append_windows(const uint8_t* feature_valid, const uint8_t* label_valid, int64_t bars, int32_t row,
                    const WindowRule& rule, std::vector<Window>& out);

// Number of such windows for each of `tickers` rows of [tickers, bars] masks (shard balancing).
std::vector<int64_t> count_windows(const std::vector<uint8_t>& feature_valid,
                                   const std::vector<uint8_t>& label_valid, int64_t tickers,
                                   int64_t bars, const WindowRule& rule);

}  // namespace tickstream
