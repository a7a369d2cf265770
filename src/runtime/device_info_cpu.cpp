// Accelerator discovery for CPU-only builds: no devices.
#include "runtime/device_info.hpp"

namespace tickstream {

DeviceInfo query_device_info() {
  DeviceInfo info;
  info.reason = "built without CUDA (TICKSTREAM_CUDA=OFF or nvcc not found)";
  return info;
}

size_t device_free_bytes(int /*device*/) { return 0; }

}  // namespace tickstream
