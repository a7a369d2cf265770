// The rank's libtorch device and intra-op threads, from its placement (runtime/placement.hpp).
#pragma once

#include <torch/torch.h>

#include <optional>

#include "runtime/rank_context.hpp"

namespace tickstream {

// Sets libtorch's intra-op threads from the rank's placement and returns the rank's device: its GPU
// when it has one and libtorch can use it, else the CPU (rank 0 says "no GPU" and why, once).
torch::Device prepare_device(RankContext& ctx);

// libtorch's device memory on a CUDA device (its caching allocator), in MB (1e6 bytes).
struct DeviceMemory {
  double allocated_mb = 0;  // held by tensors now
  double reserved_mb = 0;   // held by the allocator now (allocated + cached)
  double peak_mb = 0;       // the most allocated at once so far
};
// nullopt on the CPU.
std::optional<DeviceMemory> device_memory(const torch::Device& device);

}  // namespace tickstream
