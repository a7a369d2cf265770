// RawBlock: a contiguous block of tickers' /raw arrays (row-major [rows, bars]) in host memory.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace tickstream {

struct RawBlock {
  int64_t row_begin = 0;  // first ticker row in the store
  int64_t rows = 0;       // number of tickers in this block
  int64_t bars = 0;       // T, the full calendar length
  bool has_adj_close = false;
  std::vector<double> open, high, low, close, volume, adj_close;  // [rows * bars]
  std::vector<uint8_t> valid;                                     // [rows * bars]

  // Sizes every array to rows x bars, prices NaN and valid 0.
  void resize(int64_t row_begin_, int64_t rows_, int64_t bars_, bool with_adj) {
    row_begin = row_begin_;
    rows = rows_;
    bars = bars_;
    has_adj_close = with_adj;
    const auto n = static_cast<size_t>(rows * bars);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (auto* v : {&open, &high, &low, &close, &volume}) v->assign(n, nan);
    adj_close.assign(with_adj ? n : 0, nan);
    valid.assign(n, 0);
  }
  size_t index(int64_t row, int64_t bar) const { return static_cast<size_t>(row * bars + bar); }
};

}  // namespace tickstream
