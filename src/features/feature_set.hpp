// The default feature set: names, labels and the per-ticker input series (docs/features.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tickstream {

inline constexpr int64_t kDefinitionsVersion = 1;

// The 16 contract names first (issue #3), then the additions of definitions version 1.
inline constexpr std::array<const char*, 20> kFeatureNames = {
    "logret_1", "logret_5",   "logret_10",  "logret_20",     "vol_20",     "rsi_14",   "macd_12_26", "macd_signal_9",
    "bb_pctb_20", "atr_14_rel", "sma_20_rel", "sma_50_rel", "range_rel", "gap", "volume_z_20", "obv_rel_20",
    "clv", "logret_60", "vol_60", "high_20_rel"};
inline constexpr int64_t kFeatureCount = static_cast<int64_t>(kFeatureNames.size());
inline constexpr int64_t kLabelCount = 2;  // fwd_logret_<H>, fwd_up_<H>

// How rolling indicators, returns and labels treat a missing bar ([features] gaps,
// docs/features.md): skip runs them over the ticker's own valid bars (a missing bar is simply not
// there); strict restarts every indicator after a missing bar (the warm-up begins again).
enum class Gaps { skip, strict };

// One ticker's raw bars (row-major slices of /raw). adj_close may be null (no adjustment).
struct TickerSeries {
  const double* open = nullptr;
  const double* high = nullptr;
  const double* low = nullptr;
  const double* close = nullptr;
  const double* volume = nullptr;
  const double* adj_close = nullptr;
  const uint8_t* valid = nullptr;
  int64_t bars = 0;
};

}  // namespace tickstream
