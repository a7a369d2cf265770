// Batch assembly on the GPU for `bench loader`: window_gather_cuda timed per launch.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

#include "data/chunk_loader.hpp"

namespace tickstream {

// `batches` launches of window_gather_cuda, `batch` windows each (chunk-local rows and ends, all
// batches back to back in `rows` / `ends`), from `c` resident on the device: microseconds per
// launch by CUDA events (device time, median of runs of 100) and by the host's clock (launch to
// completion of one batch, as a training step sees it, median). The first and last batches are
// checked against window_gather_reference to 1e-6. CPU-only builds and machines without a GPU:
// {"assembly_us_gpu": null, "assembly_gpu_note": why}.
nlohmann::json gpu_assembly_figures(const Chunk& c, const std::vector<int32_t>& rows, const std::vector<int32_t>& ends,
                                    const std::vector<float>& mean, const std::vector<float>& inv_std, int64_t seq_len,
                                    int64_t batch, int64_t batches);

}  // namespace tickstream
