// The rank's libtorch device and intra-op threads, from its placement (runtime/placement.hpp).
#pragma once

#include <torch/torch.h>

#include "runtime/rank_context.hpp"

namespace tickstream {

// Sets libtorch's intra-op threads from the rank's placement and returns the rank's device: its GPU
// when it has one and libtorch can use it, else the CPU (rank 0 says "no GPU" and why, once).
torch::Device prepare_device(RankContext& ctx);

}  // namespace tickstream
