// Writes /features, /labels and /stats (store format v1, section 3) into an open store.
#pragma once

#include <string>
#include <vector>

#include "features/kernels.hpp"
#include "features/running_stats.hpp"
#include "store/h5.hpp"
#include "store/store_format.hpp"

namespace tickstream {

struct FeatureGroupsInfo {
  int64_t tickers = 0, bars = 0, horizon = 1;
  std::string gaps = "strict";   // [features] gaps the features and labels were computed with
  int64_t max_missing_bars = 0;  // the window rule's look-back beyond seq_len (Gaps::skip)
  std::vector<std::string> feature_names;  // the block's columns (the default set, then timeframes)
  int64_t chunk_tickers = store::kFeatureChunkTickers, chunk_bars = store::kFeatureChunkBars;
  std::string config_hash, cache_key, period_start, period_end;
  bool writer = true;  // the rank that writes the small /stats vectors (rank 0)
};

// Collective: replaces the three groups; each rank writes its rows [row_begin, row_begin + rows).
void write_feature_groups(const h5::File& file, const FeatureGroupsInfo& info, const FeatureBlock& block,
                          int64_t row_begin, int64_t rows, const RunningStats& stats);

}  // namespace tickstream
