// `tickstream features`: /raw -> /features, /labels, /stats, cached by a content key.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/communicator.hpp"
#include "core/config.hpp"

namespace tickstream {

struct FeaturesReport {
  bool cache_hit = false;
  std::string cache_key;
  int64_t tickers = 0, bars = 0, valid_rows = 0, train_rows = 0;
  double read_s = 0, compute_s = 0, write_s = 0, total_s = 0;  // max over ranks
  // Where each phase's time went, max over ranks, in order: read (open, raw, fingerprint),
  // compute (upload, features, labels, download, timeframes, stats), write (copy, datasets).
  std::vector<std::pair<std::string, double>> phases;
  nlohmann::json to_json() const;
};

// Collective. Recomputes unless the store already holds features for the same cache key
// (raw-data fingerprint, definitions version, feature settings) or `force` is set. The store is
// replaced atomically: the new version is written to a copy and renamed over the original.
// `threads`: host threads over this rank's tickers where the kernels run on the host without a
// parallel Kokkos backend (Kokkos::Serial); a parallel backend uses its own.
// Features are computed and written in batches of whole chunk rows of about this many bytes of
// features (buffers reused batch after batch).
inline constexpr int64_t kFeatureBatchBytes = int64_t{16} << 20;

FeaturesReport run_features(comm::Communicator& comm, const Config& config, bool force, int threads = 1,
                            int64_t batch_bytes = kFeatureBatchBytes);

}  // namespace tickstream
