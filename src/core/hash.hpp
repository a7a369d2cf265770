// FNV-1a 64-bit hashing for cache keys and config fingerprints (not cryptographic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tickstream {

inline constexpr uint64_t kFnvOffset = 1469598103934665603ull;

inline uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// 16 lowercase hex digits.
std::string hex64(uint64_t value);

}  // namespace tickstream
