// Window gather + normalize: builds a [B, seq_len, F] batch from a chunk of features.
#pragma once

#include <cstdint>

namespace tickstream {

// A chunk is row-major [tickers, bars, features]. Window b ends at bar ends[b] (inclusive) of
// ticker rows[b] and covers bars ends[b]-seq_len+1 .. ends[b]. Output is
// (x - mean[f]) * inv_std[f], clamped to [-clip, clip] when clip > 0, row-major [B, seq_len, F].
struct WindowGatherArgs {
  const float* chunk = nullptr;
  int64_t chunk_tickers = 0;
  int64_t chunk_bars = 0;
  int64_t features = 0;
  const int32_t* rows = nullptr;  // [batch]
  const int32_t* ends = nullptr;  // [batch]
  int64_t batch = 0;
  int64_t seq_len = 0;
  const float* mean = nullptr;     // [features]
  const float* inv_std = nullptr;  // [features]
  float* out = nullptr;            // [batch, seq_len, features]
  float clip = 0.0f;               // > 0: outputs clamped to [-clip, clip]
};

// Plain serial reference (host memory). Throws InternalError on an out-of-range window.
void window_gather_reference(const WindowGatherArgs& args);

#if defined(TICKSTREAM_WITH_CUDA)
// One kernel launch on `stream` (a cudaStream_t); all pointers are device pointers.
void window_gather_cuda(const WindowGatherArgs& args, void* stream);
#endif

}  // namespace tickstream
