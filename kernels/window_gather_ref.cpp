// Serial CPU reference of the window gather + normalize kernel.
#include "kernels/window_gather.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace tickstream {

void window_gather_reference(const WindowGatherArgs& a) {
  for (int64_t b = 0; b < a.batch; ++b) {
    const int64_t k = a.tile ? a.tile[b] : 0;
    TS_CHECK(k >= 0 && k < a.tiles_count, "window {}: tile {} of {}", b, k, a.tiles_count);
    const GatherTile& t = a.tiles[k];
    const int64_t row = a.rows[b];
    const int64_t first = static_cast<int64_t>(a.ends[b]) - a.seq_len + 1;
    const int32_t* bars = a.bars ? a.bars + b * a.seq_len : nullptr;
    const int64_t lowest = bars ? bars[0] : first;
    TS_CHECK(row >= 0 && row < t.tickers && lowest >= 0 && a.ends[b] < t.bars,
             "window {} (row {}, end {}) outside chunk [{} x {}]", b, row, a.ends[b], t.tickers, t.bars);
    for (int64_t s = 0; s < a.seq_len; ++s) {
      const int64_t bar = bars ? bars[s] : first + s;
      TS_CHECK(bar >= lowest && bar <= a.ends[b], "window {}: step {} at bar {} outside [{}, {}]", b, s, bar, lowest,
               a.ends[b]);
      const float* src = t.values + (row * t.bars + bar) * a.features;
      float* dst = a.out + (b * a.seq_len + s) * a.features;
      for (int64_t f = 0; f < a.features; ++f) dst[f] = (src[f] - a.mean[f]) * a.inv_std[f];
      if (a.clip > 0)
        for (int64_t f = 0; f < a.features; ++f) dst[f] = std::min(std::max(dst[f], -a.clip), a.clip);
    }
  }
}

}  // namespace tickstream
