// CUDA window gather + normalize: one thread per output element, one launch per batch, every
// window bounds-checked against its tile before any read.
#include <cuda_runtime.h>

#include "kernels/window_gather.hpp"
#include "core/error.hpp"

namespace tickstream {
namespace {

__global__ void window_gather_kernel(WindowGatherArgs a) {
  const int64_t total = a.batch * a.seq_len * a.features;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t f = i % a.features;
    const int64_t s = (i / a.features) % a.seq_len;
    const int64_t b = i / (a.features * a.seq_len);
    const int64_t k = a.tile ? a.tile[b] : 0;
    const bool tile_ok = k >= 0 && k < a.tiles_count;
    const GatherTile t = tile_ok ? a.tiles[k] : GatherTile{};
    const int64_t row = a.rows[b], end = a.ends[b];
    const int64_t bar = a.bars ? a.bars[b * a.seq_len + s] : end - a.seq_len + 1 + s;
    if (!tile_ok || row < 0 || row >= t.tickers || bar < 0 || bar > end || end >= t.bars) {
      a.out[i] = 0.0f;
      if (a.error && f == 0) atomicCAS(a.error, 0, static_cast<int32_t>(b + 1));
      continue;
    }
    const float x = t.values[(row * t.bars + bar) * a.features + f];
    const float y = (x - a.mean[f]) * a.inv_std[f];
    a.out[i] = a.clip > 0 ? fminf(fmaxf(y, -a.clip), a.clip) : y;
  }
}

}  // namespace

void window_gather_cuda(const WindowGatherArgs& args, void* stream) {
  const int64_t total = args.batch * args.seq_len * args.features;
  if (total == 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const int grid = static_cast<int>(blocks < 65535 ? blocks : 65535);
  window_gather_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(args);
  TS_CHECK_CUDA(cudaGetLastError());
}

}  // namespace tickstream
