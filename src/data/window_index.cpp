// Window enumeration: one pass per ticker with a run length of consecutive valid feature bars.
#include "data/window_index.hpp"

#include <algorithm>

namespace tickstream {

void append_windows(const uint8_t* feature_valid, const uint8_t* label_valid, int64_t bars, int32_t row,
                    const WindowRule& rule, std::vector<Window>& out) {
  const int64_t first = std::max<int64_t>(rule.period.first, 0);
  const int64_t last = std::min<int64_t>(rule.period.last - rule.horizon, bars - 1);
  WindowScan scan = rule_scan(rule, feature_valid, label_valid, first);
  for (int64_t t = 0; t <= last; ++t)
    if (scan.ends_window(t)) out.push_back(Window{row, static_cast<int32_t>(t)});
}

std::vector<int64_t> count_windows(const std::vector<uint8_t>& feature_valid,
                                   const std::vector<uint8_t>& label_valid, int64_t tickers,
                                   int64_t bars, const WindowRule& rule) {
  std::vector<int64_t> counts(static_cast<size_t>(tickers), 0);
  std::vector<Window> scratch;
  for (int64_t i = 0; i < tickers; ++i) {
    scratch.clear();
    const size_t o = static_cast<size_t>(i * bars);
    append_windows(feature_valid.data() + o, label_valid.data() + o, bars, static_cast<int32_t>(i), rule,
                   scratch);
    counts[static_cast<size_t>(i)] = static_cast<int64_t>(scratch.size());
  }
  return counts;
}

}  // namespace tickstream
