// Reads what training and prediction need from a store: feature/label metadata, statistics, masks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/store_reader.hpp"

namespace tickstream {

// Per-feature normalization moments (/stats, or a walk-forward fold's own).
struct NormalizationStats {
  std::vector<double> mean, std;
};

// /meta, the names and attributes of /features and /labels, and /stats.
struct FeatureStoreInfo {
  std::string path;
  std::vector<std::string> tickers;
  std::vector<int64_t> time;
  std::vector<std::string> feature_names, label_names;
  int64_t horizon = 0;
  std::string gaps = "strict";    // how features and labels treat missing bars (/features/values attr)
  int64_t max_missing_bars = 0;   // windows: seq_len valid bars within seq_len + this many (skip)
  std::vector<double> mean, std;  // /stats, one per feature
  std::string features_hash;      // /features/values config_hash
  int64_t tickers_count() const { return static_cast<int64_t>(tickers.size()); }
  int64_t bars() const { return static_cast<int64_t>(time.size()); }
  int64_t features() const { return static_cast<int64_t>(feature_names.size()); }
};

// The window rule's look-back beyond seq_len for this store: max_missing_bars of a skip store, 0
// for a strict one (windows are then seq_len contiguous bars).
inline int64_t window_slack(const FeatureStoreInfo& info) { return info.gaps == "skip" ? info.max_missing_bars : 0; }

// InputError naming the store when /features, /labels or /stats is missing ("run `tickstream
// features` first") or inconsistent.
FeatureStoreInfo read_feature_info(const StoreReader& store);

// The validity masks of every ticker: /features/valid and /labels/valid [N, T].
struct ValidityMasks {
  int64_t tickers = 0, bars = 0;
  std::vector<uint8_t> features, labels;
};
ValidityMasks read_validity(const StoreReader& store);

}  // namespace tickstream
