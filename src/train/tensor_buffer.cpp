// Communicator buffers from libtorch tensors.
#include "train/tensor_buffer.hpp"

#ifdef TICKSTREAM_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include "core/error.hpp"

namespace tickstream::comm {
namespace {

DType dtype_of_tensor(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return DType::f32;
    case torch::kFloat64: return DType::f64;
    case torch::kInt32: return DType::i32;
    case torch::kInt64: return DType::i64;
    case torch::kUInt8: return DType::u8;
    default: TS_INTERNAL_ERROR("no communicator dtype for tensors of {}", c10::toString(t.scalar_type()));
  }
}

}  // namespace

Buffer tensor_buffer(const torch::Tensor& t) {
  TS_CHECK(t.defined() && t.is_contiguous(), "communicator tensors must be defined and contiguous");
  Buffer b;
  b.data = t.data_ptr();
  b.count = t.numel();
  b.dtype = dtype_of_tensor(t);
  b.memory = t.is_cuda() ? Memory::cuda : Memory::host;
  b.device = t.is_cuda() ? t.get_device() : -1;
#ifdef TICKSTREAM_WITH_CUDA
  // The collective runs after the work libtorch queued for this tensor (its current stream).
  if (t.is_cuda()) b.stream = c10::cuda::getCurrentCUDAStream(t.get_device()).stream();
#endif
  return b;
}

}  // namespace tickstream::comm
