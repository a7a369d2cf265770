// Communicator buffers from libtorch tensors: count, dtype and device derived from the tensor.
#pragma once

#include <torch/torch.h>

#include "comm/communicator.hpp"

namespace tickstream::comm {

// `t` must be contiguous and of a dtype the communicator knows (float, double, int, long, uint8).
Buffer tensor_buffer(const torch::Tensor& t);

}  // namespace tickstream::comm
