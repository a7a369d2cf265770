// Store format v1: the schema in one place (docs/store-format.md): format name and version, every
// group and dataset path, the chunk shapes, and the rule that makes a sample window valid.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tickstream::store {

inline constexpr const char* kFormatName = "tickstream.store";
inline constexpr int64_t kFormatVersion = 1;
inline constexpr std::array<const char*, 5> kPriceFields = {"open", "high", "low", "close", "volume"};

// Default chunk shape of the [N, T] raw datasets (see bench/results for the measurement).
inline constexpr int64_t kDefaultChunkTickers = 16;
inline constexpr int64_t kDefaultChunkBars = 4096;
// Chunk shape of /features and /labels. 64 bars: prediction reads the last seq_len bars of every
// ticker, and Fletcher32 makes HDF5 read (and checksum) whole chunks: 512-bar chunks read ~4x
// more than 64-bar ones there (bench predict), while training tiles of >= 64 bars read whole
// chunks either way.
inline constexpr int64_t kFeatureChunkTickers = 16, kFeatureChunkBars = 64;

// Groups and datasets, relative to the file's root. N tickers x T bars x F features / L labels.
namespace path {
inline constexpr const char* kMeta = "meta";
inline constexpr const char* kTickers = "meta/tickers";          // [N] strings
inline constexpr const char* kTime = "meta/time";                // [T] int64, seconds since epoch UTC
inline constexpr const char* kRaw = "raw";                       // raw/<price field> [N, T]
inline constexpr const char* kRawValid = "raw/valid";            // [N, T] uint8: a bar exists
inline constexpr const char* kRawAdjClose = "raw/adj_close";     // optional
inline constexpr const char* kFeatures = "features";
inline constexpr const char* kFeatureValues = "features/values";  // [N, T, F] float32
inline constexpr const char* kFeatureValid = "features/valid";    // [N, T] uint8
inline constexpr const char* kLabels = "labels";
inline constexpr const char* kLabelValues = "labels/values";      // [N, T, L] float32
inline constexpr const char* kLabelValid = "labels/valid";        // [N, T] uint8
inline constexpr const char* kStats = "stats";
inline constexpr const char* kStatsMean = "stats/mean";           // [F] float64, training period
inline constexpr const char* kStatsStd = "stats/std";             // [F] float64
}  // namespace path

// "raw/<field>" for a price field of kPriceFields (or "adj_close").
inline std::string raw_dataset(std::string_view field) { return std::string(path::kRaw) + "/" + std::string(field); }

}  // namespace tickstream::store

namespace tickstream {

// Inclusive bar indices [first, last] of a period on the store's time axis; empty when first > last.
struct BarRange {
  int64_t first = 0, last = -1;
  bool empty() const { return first > last; }
  int64_t size() const { return empty() ? 0 : last - first + 1; }
};

// The bars of `time` within [start, end] (seconds). start 0 = from the first bar, end 0 = to the
// last; a date-only end (00:00 UTC) includes every bar of that day (intraday stores).
inline BarRange period_bars(const std::vector<int64_t>& time, int64_t start, int64_t end) {
  const int64_t lo = start ? start : INT64_MIN;
  const int64_t hi = !end ? INT64_MAX : (end % 86400 == 0 ? end + 86399 : end);
  BarRange r;
  r.first = std::lower_bound(time.begin(), time.end(), lo) - time.begin();
  r.last = (std::upper_bound(time.begin(), time.end(), hi) - time.begin()) - 1;
  return r;
}

// A sample: `seq_len` bars of one ticker ending at bar `end` (the prediction is made at its close).
struct Window {
  int32_t row = 0;  // ticker index in the store
  int32_t end = 0;  // bar index of the window's last bar
};

struct WindowRule {
  int64_t seq_len = 64;
  int64_t horizon = 1;
  BarRange period;  // end bars in the period, with end + horizon still inside it (no label leaks
                    // across the period boundary)
};

// THE valid-window rule, the one every reader applies (training windows, the shard plan, scoring):
// a window ending at bar t is valid when the `seq_len` bars up to t all have valid features
// (features/valid), and, for training, the label at t is valid (labels/valid) and t lies in the
// rule's period. WindowScan walks one ticker's row bar by bar in increasing t, keeping the run of
// consecutive valid feature bars ending at t.
struct WindowScan {
  const uint8_t* feature_valid;
  const uint8_t* label_valid;  // nullptr: scoring (no label needed)
  int64_t seq_len;
  int64_t first_end = 0;  // the first end bar that may hold a window (the period's start)
  int64_t run = 0;
  // Call for t = scan start, scan start + 1, ...: true when a window ends at t.
  bool ends_window(int64_t t) {
    run = feature_valid[t] ? run + 1 : 0;
    return t >= first_end && run >= seq_len && (label_valid == nullptr || label_valid[t] != 0);
  }
};

// The run of consecutive valid bars ending at `end`, at most `max` (scoring at one as-of bar: the
// window is valid when this equals seq_len).
inline int64_t valid_history(const uint8_t* valid, int64_t end, int64_t max) {
  int64_t run = 0;
  while (run < max && end - run >= 0 && valid[end - run]) ++run;
  return run;
}

}  // namespace tickstream
