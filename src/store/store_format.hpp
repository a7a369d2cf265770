// Store format v1: the schema in one place (docs/store-format.md): format name and version, every
// group and dataset path, the chunk shapes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickstream::store {

inline constexpr const char* kFormatName = "tickstream.store";
inline constexpr int64_t kFormatVersion = 1;
inline constexpr std::array<const char*, 5> kPriceFields = {"open", "high", "low", "close", "volume"};

// Default chunk shape of the [N, T] raw datasets (see bench/results for the measurement).
inline constexpr int64_t kDefaultChunkTickers = 16;
inline constexpr int64_t kDefaultChunkBars = 4096;
// Chunk shape of /features and /labels. 64 bars: prediction reads the last seq_len bars of every
// ticker, and Fletcher32 makes HDF5 read (and checksum) whole chunks: 512-bar chunks read ~4x
// more than 64-bar ones there (bench predict), while training tiles of >= 64 bars read whole
// chunks either way.
inline constexpr int64_t kFeatureChunkTickers = 16, kFeatureChunkBars = 64;

// Groups and datasets, relative to the file's root. N tickers x T bars x F features / L labels.
namespace path {
inline constexpr const char* kMeta = "meta";
inline constexpr const char* kTickers = "meta/tickers";          // [N] strings
inline constexpr const char* kTime = "meta/time";                // [T] int64, seconds since epoch UTC
inline constexpr const char* kRaw = "raw";                       // raw/<price field> [N, T]
inline constexpr const char* kRawValid = "raw/valid";            // [N, T] uint8: a bar exists
inline constexpr const char* kRawAdjClose = "raw/adj_close";     // optional
inline constexpr const char* kFeatures = "features";
inline constexpr const char* kFeatureValues = "features/values";  // [N, T, F] float32
inline constexpr const char* kFeatureValid = "features/valid";    // [N, T] uint8
inline constexpr const char* kLabels = "labels";
inline constexpr const char* kLabelValues = "labels/values";      // [N, T, L] float32
inline constexpr const char* kLabelValid = "labels/valid";        // [N, T] uint8
inline constexpr const char* kStats = "stats";
inline constexpr const char* kStatsMean = "stats/mean";           // [F] float64, training period
inline constexpr const char* kStatsStd = "stats/std";             // [F] float64
}  // namespace path

// "raw/<field>" for a price field of kPriceFields (or "adj_close").
inline std::string raw_dataset(std::string_view field) { return std::string(path::kRaw) + "/" + std::string(field); }

}  // namespace tickstream::store
