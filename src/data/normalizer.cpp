// Normalizer statistics and the host window gather over one chunk.
#include "data/normalizer.hpp"

#include <cmath>

#include "core/error.hpp"
#include "kernels/window_gather.hpp"

namespace tickstream {

Normalizer::Normalizer(const std::vector<double>& m, const std::vector<double>& s) {
  TS_CHECK(m.size() == s.size(), "normalization statistics: {} means, {} standard deviations", m.size(), s.size());
  for (size_t f = 0; f < m.size(); ++f) {
    mean.push_back(static_cast<float>(m[f]));
    inv_std.push_back(s[f] > 0 && std::isfinite(s[f]) ? static_cast<float>(1.0 / s[f]) : 1.0f);
  }
}

bool chunk_window_bars(const Chunk& c, const int32_t* rows, const int32_t* ends, int64_t n, int64_t seq_len,
                       std::vector<int32_t>& out) {
  bool gapped = false;
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(n * seq_len));
  for (int64_t i = 0; i < n; ++i) {
    int32_t* bars = out.data() + at + static_cast<size_t>(i * seq_len);
    TS_CHECK(rows[i] >= 0 && rows[i] < c.tile.rows && ends[i] >= 0 && ends[i] < c.bars,
             "window (row {}, end {}) outside chunk [{} x {}]", rows[i], ends[i], c.tile.rows, c.bars);
    const bool found = window_bars(c.valid.data() + static_cast<size_t>(rows[i]) * static_cast<size_t>(c.bars), ends[i],
                                   seq_len, 0, bars);
    TS_CHECK(found, "window (row {}, end {}): fewer than {} bars with features in its chunk (tile at bar {})",
             c.tile.row_begin + rows[i], c.bar0 + ends[i], seq_len, c.bar0);
    gapped = gapped || bars[seq_len - 1] - bars[0] != seq_len - 1;
  }
  return gapped;
}

void gather_windows(const Chunk& c, const int32_t* rows, const int32_t* ends, int64_t n, const Normalizer& norm,
                    int64_t seq_len, float* out, const int32_t* bars) {
  TS_CHECK(static_cast<int64_t>(norm.mean.size()) == c.features, "normalizer has {} features, the chunk {}",
           norm.mean.size(), c.features);
  const GatherTile tile{c.values.data(), c.tile.rows, c.bars};
  WindowGatherArgs a;
  a.tiles = &tile, a.tiles_count = 1, a.features = c.features;
  a.rows = rows, a.ends = ends, a.bars = bars, a.batch = n, a.seq_len = seq_len;
  a.mean = norm.mean.data(), a.inv_std = norm.inv_std.data(), a.clip = Normalizer::kClip;
  a.out = out;
  window_gather_reference(a);
}

}  // namespace tickstream
