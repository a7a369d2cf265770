// Accelerator discovery through the CUDA runtime and NCCL (CUDA builds only).
#include "runtime/device_info.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <fmt/format.h>

namespace tickstream {

DeviceInfo query_device_info() {
  DeviceInfo info;
  int runtime = 0;
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
    info.cuda_runtime = fmt::format("{}.{}", runtime / 1000, runtime % 1000 / 10);
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess)
    info.nccl = fmt::format("{}.{}.{}", nccl / 10000, nccl / 100 % 100, nccl % 100);
  const cudaError_t rc = cudaGetDeviceCount(&info.cuda_devices);
  if (rc != cudaSuccess) {
    info.cuda_devices = 0;
    info.reason = cudaGetErrorString(rc);
    cudaGetLastError();  // clear the sticky error
  } else if (info.cuda_devices == 0) {
    info.reason = "no CUDA device visible";
  }
  return info;
}

size_t device_free_bytes(int device) {
  int previous = 0;
  size_t free = 0, total = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) free = 0;
  cudaGetLastError();
  cudaSetDevice(previous);
  return free;
}

}  // namespace tickstream
