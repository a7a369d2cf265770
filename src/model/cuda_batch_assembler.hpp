// The CUDA BatchAssembler (CUDA builds only): see make_batch_assembler in model/batch_assembler.hpp.
#pragma once

#include "model/batch_assembler.hpp"

namespace tickstream {

std::unique_ptr<BatchAssembler> make_cuda_batch_assembler(const Normalizer& norm, int64_t seq_len,
                                                          int64_t features, torch::Device device);

}  // namespace tickstream
