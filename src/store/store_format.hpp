// Store format v1 constants (docs/store-format.md).
#pragma once

#include <array>
#include <cstdint>

namespace tickstream::store {

inline constexpr const char* kFormatName = "tickstream.store";
inline constexpr int64_t kFormatVersion = 1;
inline constexpr std::array<const char*, 5> kPriceFields = {"open", "high", "low", "close", "volume"};

// Default chunk shape of the [N, T] raw datasets (see bench/results for the measurement).
inline constexpr int64_t kDefaultChunkTickers = 16;
inline constexpr int64_t kDefaultChunkBars = 4096;

}  // namespace tickstream::store
