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

// A sample: the last `seq_len` bars with features of one ticker up to bar `end` (the prediction is
// made at its close).
struct Window {
  int32_t row = 0;  // ticker index in the store
  int32_t end = 0;  // bar index of the window's as-of bar
};

struct WindowRule {
  int64_t seq_len = 64;
  int64_t horizon = 1;
  BarRange period;  // end bars in the period, with the label's bars still inside it (no label
                    // leaks across the period boundary)
  int64_t max_missing = 0;  // [features] max_missing_bars of a skip store; 0: strict (contiguous)
  // Bars a window may look back over, its as-of bar included: seq_len + max_missing.
  int64_t span() const { return seq_len + max_missing; }
};

// THE valid-window rule, the one every reader applies (training windows, the shard plan, scoring):
// a window ending at bar t is valid when at least `seq_len` of the `span` bars up to t have valid
// features (features/valid; strict stores: span == seq_len, so all of them), and, for training,
// bar t has features and a valid label (labels/valid), t lies in the rule's period, and the label's
// bars lie in it too (a skip store's label ends at the horizon-th valid bar after t: required
// within the period and within horizon + max_missing bars). The window's bars are the last seq_len
// valid ones (window_bars). WindowScan walks one ticker's row bar by bar in increasing t.
struct WindowScan {
  const uint8_t* feature_valid;
  const uint8_t* label_valid;  // nullptr: scoring (no label needed, the as-of bar may be missing)
  int64_t seq_len;
  int64_t first_end = 0;       // the first end bar that may hold a window (the period's start)
  int64_t span = 0;            // 0: seq_len
  int64_t label_last = -1;     // skip stores, training: the period's last bar (-1: no check)
  int64_t horizon = 1;
  int64_t count = 0, start = -1;  // valid bars among the last span bars; the first t scanned
  // Call for t = scan start, scan start + 1, ...: true when a window ends at t.
  bool ends_window(int64_t t) {
    const int64_t w = span > 0 ? span : seq_len;
    if (start < 0) start = t;
    count += feature_valid[t] ? 1 : 0;
    if (t - w >= start && feature_valid[t - w]) --count;
    if (t < first_end || count < seq_len) return false;
    if (label_valid == nullptr) return true;
    return feature_valid[t] && label_valid[t] != 0 && label_inside(t, w - seq_len);
  }
  // Whether `horizon` valid bars follow t within the period and within horizon + missing bars.
  bool label_inside(int64_t t, int64_t missing) const {
    if (label_last < 0 || missing == 0) return true;
    const int64_t last = std::min(label_last, t + horizon + missing);
    int64_t n = 0;
    for (int64_t u = t + 1; u <= last && n < horizon; ++u) n += feature_valid[u] ? 1 : 0;
    return n >= horizon;
  }
};

// The scan of `rule` over one row's masks for end bars from `first_end` on.
inline WindowScan rule_scan(const WindowRule& rule, const uint8_t* feature_valid, const uint8_t* label_valid,
                            int64_t first_end) {
  return WindowScan{feature_valid, label_valid, rule.seq_len, first_end, rule.span(),
                    rule.max_missing > 0 ? rule.period.last : -1, rule.horizon};
}

// The run of consecutive valid bars ending at `end`, at most `max`.
inline int64_t valid_history(const uint8_t* valid, int64_t end, int64_t max) {
  int64_t run = 0;
  while (run < max && end - run >= 0 && valid[end - run]) ++run;
  return run;
}

// Valid bars among the `span` bars ending at `end` (those at or after bar 0), at most `max`: a
// window of seq_len ends at `end` when this reaches seq_len (max = seq_len).
inline int64_t valid_in_span(const uint8_t* valid, int64_t end, int64_t span, int64_t max) {
  int64_t n = 0;
  for (int64_t t = end; t > end - span && t >= 0 && n < max; --t) n += valid[t] ? 1 : 0;
  return n;
}

// The window's bars: the last `seq_len` valid bars at or before `end`, oldest first, into
// out[0, seq_len). Returns false when fewer than seq_len lie in bars [lowest, end].
inline bool window_bars(const uint8_t* valid, int64_t end, int64_t seq_len, int64_t lowest, int32_t* out) {
  int64_t k = seq_len;
  for (int64_t t = end; t >= lowest && k > 0; --t)
    if (valid[t]) out[--k] = static_cast<int32_t>(t);
  return k == 0;
}

}  // namespace tickstream
