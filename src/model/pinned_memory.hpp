// Page-locked host memory for chunk buffers on CUDA ranks: the copy engine reads it directly, so a
// chunk's copy to the device is asynchronous (cudaMemcpyAsync from pageable memory is not).
#pragma once

#include "data/host_memory.hpp"

namespace tickstream {

// cudaHostAlloc / cudaFreeHost in CUDA builds; pageable_host_memory() in CPU-only builds.
const HostMemory& pinned_host_memory();

}  // namespace tickstream
