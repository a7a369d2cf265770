// Pinned host memory through the CUDA runtime (pageable in CPU-only builds).
#include "model/pinned_memory.hpp"

#ifdef TICKSTREAM_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace tickstream {
#ifdef TICKSTREAM_WITH_CUDA
namespace {

void* pinned_allocate(size_t bytes) {
  void* p = nullptr;
  return cudaHostAlloc(&p, bytes == 0 ? 1 : bytes, cudaHostAllocPortable) == cudaSuccess ? p : nullptr;
}
void pinned_release(void* p) noexcept { cudaFreeHost(p); }

}  // namespace

const HostMemory& pinned_host_memory() {
  static const HostMemory memory{"pinned", pinned_allocate, pinned_release};
  return memory;
}
#else
const HostMemory& pinned_host_memory() { return pageable_host_memory(); }
#endif
}  // namespace tickstream
