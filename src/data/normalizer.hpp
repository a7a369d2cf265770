// Feature normalization shared by training and prediction: (x - mean) / std, clipped, gathered
// into [B, seq_len, F] windows by the window gather kernel.
#pragma once

#include <cstdint>
#include <vector>

#include "data/chunk_loader.hpp"

namespace tickstream {

struct Normalizer {
  static constexpr float kClip = 10.0f;  // normalized features are clipped to [-10, 10]
  std::vector<float> mean, inv_std;      // a zero or non-finite std leaves the feature unscaled

  Normalizer(const std::vector<double>& mean, const std::vector<double>& std);
};

// The bars of the n windows ending at ends[i] (chunk-relative) of chunk rows rows[i]: the last
// seq_len bars with features of each (window_bars over the chunk's /features/valid), appended to
// `out` [n, seq_len]. Returns whether any window is not contiguous (a skip store's window around a
// missing bar); when none is, the gather needs no bar list. InternalError when a window's bars do
// not all lie in the chunk (its tile was read with too little history).
bool chunk_window_bars(const Chunk& chunk, const int32_t* rows, const int32_t* ends, int64_t n, int64_t seq_len,
                       std::vector<int32_t>& out);

// Writes the n windows ending at bars ends[i] (chunk-relative) of chunk rows rows[i] to `out`
// ([n, seq_len, features], normalized and clipped), with the serial reference kernel; `bars`
// ([n, seq_len] from chunk_window_bars, or null for contiguous windows) places their steps.
void gather_windows(const Chunk& chunk, const int32_t* rows, const int32_t* ends, int64_t n,
                    const Normalizer& norm, int64_t seq_len, float* out, const int32_t* bars = nullptr);

}  // namespace tickstream
