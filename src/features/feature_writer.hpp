// Writes /features, /labels and /stats (store format v1, section 3) into an open store.
#pragma once

#include <string>

#include "features/kernels.hpp"
#include "features/running_stats.hpp"
#include "store/h5.hpp"

namespace tickstream {

// Chunk shape of /features and /labels. 64 bars: prediction reads the last seq_len bars of every
// ticker, and Fletcher32 makes HDF5 read (and checksum) whole chunks: 512-bar chunks read ~4x
// more than 64-bar ones there (bench predict), while training tiles of >= 64 bars read whole
// chunks either way.
inline constexpr int64_t kFeatureChunkTickers = 16, kFeatureChunkBars = 64;

struct FeatureGroupsInfo {
  int64_t tickers = 0, bars = 0, horizon = 1;
  int64_t chunk_tickers = kFeatureChunkTickers, chunk_bars = kFeatureChunkBars;
  std::string config_hash, cache_key, period_start, period_end;
  bool writer = true;  // the rank that writes the small /stats vectors (rank 0)
};

// Collective: replaces the three groups; each rank writes its rows [row_begin, row_begin + rows).
void write_feature_groups(const h5::File& file, const FeatureGroupsInfo& info, const FeatureBlock& block,
                          int64_t row_begin, int64_t rows, const RunningStats& stats);

}  // namespace tickstream
