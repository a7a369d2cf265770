// Window gather + normalize: builds a [B, seq_len, F] batch from tiles of features.
#pragma once

#include <cstdint>

namespace tickstream {

// One tile (chunk) of features, row-major [tickers, bars, features].
struct GatherTile {
  const float* values = nullptr;
  int64_t tickers = 0;
  int64_t bars = 0;
};

// Window b reads tile tiles[tile[b]] (tile 0 when `tile` is null): it ends at bar ends[b]
// (inclusive) of that tile's row rows[b] and covers bars ends[b]-seq_len+1 .. ends[b], or, when
// `bars` is set, bars bars[b * seq_len + s] for s = 0 .. seq_len-1 (a skip store's window: the last
// seq_len bars with features, around missing ones; store/store_format.hpp window_bars). Output is
// (x - mean[f]) * inv_std[f], clamped to [-clip, clip] when clip > 0, row-major [B, seq_len, F].
struct WindowGatherArgs {
  const GatherTile* tiles = nullptr;  // [tiles_count]
  int64_t tiles_count = 0;
  int64_t features = 0;
  const int32_t* tile = nullptr;  // [batch] or null
  const int32_t* rows = nullptr;  // [batch]
  const int32_t* ends = nullptr;  // [batch]
  const int32_t* bars = nullptr;  // [batch, seq_len] or null (contiguous windows)
  int64_t batch = 0;
  int64_t seq_len = 0;
  const float* mean = nullptr;     // [features]
  const float* inv_std = nullptr;  // [features]
  float* out = nullptr;            // [batch, seq_len, features]
  float clip = 0.0f;               // > 0: outputs clamped to [-clip, clip]
  // CUDA only: an int the kernel sets to 1 + the index of an out-of-range window (a tile index,
  // row or bar range outside its tile), whose outputs it writes as 0 instead of reading past the
  // buffer; it stays as it was when every window is in range. Null: out-of-range windows are
  // written as 0 unreported (callers that checked the windows on the host).
  int32_t* error = nullptr;
};

// Plain serial reference (host memory). Throws InternalError on an out-of-range window.
void window_gather_reference(const WindowGatherArgs& args);

#if defined(TICKSTREAM_WITH_CUDA)
// One kernel launch on `stream` (a cudaStream_t); every pointer is a device pointer (tiles too,
// and the values they point at), `error` may be mapped pinned host memory.
void window_gather_cuda(const WindowGatherArgs& args, void* stream);
#endif

}  // namespace tickstream
