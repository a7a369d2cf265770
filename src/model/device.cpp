// Device choice for training and prediction alike.
#include "model/device.hpp"

#include <spdlog/spdlog.h>

#ifdef TICKSTREAM_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "core/error.hpp"

namespace tickstream {

torch::Device prepare_device(RankContext& ctx) {
  const Placement& p = ctx.placement();
  at::set_num_threads(p.cpu_threads);
  spdlog::debug("placement: {}", p.summary);
  if (p.device >= 0 && torch::cuda::is_available()) return torch::Device(torch::kCUDA, static_cast<int16_t>(p.device));
  TS_REQUIRE_INPUT(!p.gpu_required, "--device cuda: libtorch finds no usable CUDA device ({})",
                   p.device >= 0 ? "the CUDA runtime sees one, libtorch does not" : p.gpu_note);
  // Said once per job (rank 0), not per rank or per call.
  if (ctx.is_root())
    spdlog::info("no GPU ({}): every rank runs on the CPU",
                 p.device >= 0 ? "libtorch finds no usable CUDA device" : p.gpu_note);
  return torch::kCPU;
}

std::optional<DeviceMemory> device_memory(const torch::Device& device) {
  if (!device.is_cuda()) return std::nullopt;
#ifdef TICKSTREAM_WITH_CUDA
  using c10::CachingDeviceAllocator::StatType;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
  const auto aggregate = static_cast<size_t>(StatType::AGGREGATE);
  DeviceMemory m;
  m.allocated_mb = static_cast<double>(stats.allocated_bytes[aggregate].current) / 1e6;
  m.reserved_mb = static_cast<double>(stats.reserved_bytes[aggregate].current) / 1e6;
  m.peak_mb = static_cast<double>(stats.allocated_bytes[aggregate].peak) / 1e6;
  return m;
#else
  return std::nullopt;
#endif
}

}  // namespace tickstream
