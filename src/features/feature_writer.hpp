// Writes /features, /labels and /stats (store format v1, section 3) into a store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "features/kernels.hpp"
#include "features/running_stats.hpp"
#include "store/h5.hpp"
#include "store/raw_chunks.hpp"
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

// Writes the three groups into the store at `path` (the caller's temp copy), batch by batch.
// Every rank fills and checksums the chunks of its batch's rows on host threads (one reused
// buffer: no fresh pages); rank 0 alone opens the file (serial HDF5) and writes every rank's
// chunks as they are (H5Dwrite_chunk), so the file's bytes do not depend on the rank count.
class FeatureGroupsWriter {
 public:
  // Nothing collective yet: the first write_rows runs `before_open` on every rank (e.g. waiting
  // for the file's copy), then rank 0 opens the file and replaces /features, /labels and /stats
  // with empty datasets.
  FeatureGroupsWriter(comm::Communicator& comm, std::string path, const FeatureGroupsInfo& info, int threads,
                      RootStep on_root, std::function<void()> before_open);
  // Collective: rows [row_begin, row_begin + block rows) of every rank (whole chunk rows; a rank
  // may pass none), `block` holding them from its first row.
  void write_rows(const FeatureBlock& block, int64_t row_begin, int64_t rows);
  // Rank 0 writes /stats and closes the file.
  void finish(const RunningStats& stats);

 private:
  void open_once();

  comm::Communicator& comm_;
  std::string path_;
  FeatureGroupsInfo info_;
  int threads_;
  RootStep on_root_;
  std::function<void()> before_open_;
  bool opened_ = false;
  std::optional<h5::File> file_;
  std::vector<h5::Handle> datasets_;  // features values, valid; labels values, valid
  ChunkGrid grid_;
  RawChunks chunks_;
  double open_s_ = 0, seal_s_ = 0, write_s_ = 0;  // debug log at finish
};

}  // namespace tickstream
