// Accelerator discovery: visible CUDA devices and the NCCL version (0 / empty in CPU builds).
#pragma once

#include <cstddef>
#include <string>

namespace tickstream {

struct DeviceInfo {
  int cuda_devices = 0;       // 0 when built without CUDA or no driver/device is present
  std::string cuda_runtime;   // e.g. "13.0"; empty without CUDA
  std::string nccl;           // e.g. "2.27.3"; empty without NCCL
  std::string reason;         // why cuda_devices is 0, when it is
};

DeviceInfo query_device_info();

// Free memory of CUDA device `device` in bytes (cudaMemGetInfo); 0 in CPU builds or on error.
size_t device_free_bytes(int device);

}  // namespace tickstream
