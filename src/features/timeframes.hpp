// Features at coarser timeframes ([features.timeframes], docs/features.md "Several timeframes"):
// each ticker's own bars aggregated into coarse bars (weekly from daily, 5-minute / hourly / daily
// from 1-minute bars), the default feature kernels run on them, and each coarse bar's features
// aligned to the base bars after it has closed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "features/kernels.hpp"

namespace tickstream {

struct TimeframeSpec {
  std::string name;                  // "1w", "1d", "1h", "5min", ...
  int64_t seconds = 0;               // bucket width (weeks: 7 days, Monday 00:00 UTC to Monday)
  bool weekly = false;
  std::vector<int64_t> features;     // indices into kFeatureNames
};

// The config's timeframes checked: a name "<N>min", "<N>h", "1d" or "1w" (N >= 1), feature names
// of the default set, no duplicates. InputError naming [features.timeframes] and the key.
std::vector<TimeframeSpec> resolve_timeframes(const std::vector<Config::Timeframe>& config);

// The coarse bucket of a bar time (seconds): bars with equal buckets form one coarse bar.
int64_t timeframe_bucket(const TimeframeSpec& tf, int64_t time);

// Column names: the default set, then "<timeframe>_<feature>" per timeframe in order.
std::vector<std::string> feature_columns(const std::vector<TimeframeSpec>& timeframes);

// The coarse bar usable at each base bar: coarse bars are numbered in time order over the store's
// axis; bar t may use the coarse bar that contains it only when t is that coarse bar's last bar on
// the axis (it has closed at t's close), else the one before (-1: none yet).
struct TimeframeAxis {
  std::vector<int64_t> coarse_of;  // [T] coarse bar containing base bar t
  std::vector<int64_t> usable;     // [T] coarse bar whose features bar t sees (-1: none)
  int64_t coarse_bars = 0;
};
TimeframeAxis timeframe_axis(const TimeframeSpec& tf, const std::vector<int64_t>& time);

// One block's coarse bars: per ticker, over its valid bars in each coarse bar, the first open,
// highest high, lowest low, last close and summed volume of the adjusted prices (adj_close /
// close applied per bar; no adj_close in the result). A coarse bar with no valid bar is invalid.
RawBlock coarse_block(const RawBlock& raw, const TimeframeAxis& axis);

// `base` (the default set over `raw`, bars `time`) with every timeframe's columns appended, and a
// row valid only where its base row and every appended value are. Coarse features are computed
// with `gaps` over the coarse bars.
FeatureBlock add_timeframes(const RawBlock& raw, const std::vector<int64_t>& time, FeatureBlock base,
                            const std::vector<TimeframeSpec>& timeframes, Gaps gaps);

}  // namespace tickstream
