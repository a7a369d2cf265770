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

void gather_windows(const Chunk& c, const int32_t* rows, const int32_t* ends, int64_t n, const Normalizer& norm,
                    int64_t seq_len, float* out) {
  TS_CHECK(static_cast<int64_t>(norm.mean.size()) == c.features, "normalizer has {} features, the chunk {}",
           norm.mean.size(), c.features);
  const GatherTile tile{c.values.data(), c.tile.rows, c.bars};
  WindowGatherArgs a;
  a.tiles = &tile, a.tiles_count = 1, a.features = c.features;
  a.rows = rows, a.ends = ends, a.batch = n, a.seq_len = seq_len;
  a.mean = norm.mean.data(), a.inv_std = norm.inv_std.data(), a.clip = Normalizer::kClip;
  a.out = out;
  window_gather_reference(a);
}

}  // namespace tickstream
