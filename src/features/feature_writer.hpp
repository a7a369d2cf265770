// Writes /features, /labels and /stats (store format v1, section 3) into a store.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
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
};

// Runs one step of rank 0's writes; a failure is kept (and later steps skipped) until the caller
// agrees on it after the last collective.
using RootStep = std::function<void(const std::function<void()>& step)>;

// Collective: replaces the three groups of the store at `path` (the caller's temp copy). Every
// rank fills and checksums the chunks of its rows [row_begin, row_begin + rows) on `threads`
// host threads, in batches of whole chunk rows (~16 MiB of chunks, one reused buffer: no fresh
// pages); rank 0 alone opens the file (serial HDF5) and writes every rank's batches as they are
// (H5Dwrite_chunk), so the file's bytes do not depend on the rank count.
void write_feature_groups(comm::Communicator& comm, const std::string& path, const FeatureGroupsInfo& info,
                          const FeatureBlock& block, int64_t row_begin, int64_t rows, const RunningStats& stats,
                          int threads, const RootStep& on_root);

}  // namespace tickstream
