// FNV-1a 64-bit hashing for cache keys and config fingerprints (not cryptographic).
#pragma once

#include <cstdint>
#include <cstring>
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

// FNV-1a over 64-bit words (a word per step: 8x fewer steps than bytes for bulk data; a different
// value from fnv1a of the same bytes). Reads `words` with memcpy, so any alignment is fine.
inline uint64_t fnv1a_words(const void* data, size_t words, uint64_t h = kFnvOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + i * sizeof(uint64_t), sizeof(uint64_t));
    h ^= w;
    h *= 1099511628211ull;
  }
  return h;
}

// 16 lowercase hex digits.
std::string hex64(uint64_t value);

}  // namespace tickstream
