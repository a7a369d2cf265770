// Device choice for training and prediction alike.
#include "model/device.hpp"

#include <spdlog/spdlog.h>

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

}  // namespace tickstream
