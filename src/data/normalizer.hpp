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

// Writes the n windows ending at bars ends[i] (chunk-relative) of chunk rows rows[i] to `out`
// ([n, seq_len, features], normalized and clipped), with the serial reference kernel.
void gather_windows(const Chunk& chunk, const int32_t* rows, const int32_t* ends, int64_t n,
                    const Normalizer& norm, int64_t seq_len, float* out);

}  // namespace tickstream
