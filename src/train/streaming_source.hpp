// The streaming batch source: shard plan -> chunk loader (prefetch thread, cache) or resident
// tiles -> window sampler -> [B, seq_len, F] batches normalized with the store's statistics.
#pragma once

#include <memory>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "data/feature_store.hpp"
#include "train/batch_source.hpp"

namespace tickstream {

// Collective over `comm` (the plan is computed identically on every rank; the label scale is
// reduced). The epoch's window sequence is: the rank's tiles in epoch_order(seed, epoch, rank),
// each tile's training windows shuffled by (seed, epoch, rank, tile); batch k takes positions
// [kB, (k+1)B) of that sequence, wrapping around for ranks with fewer windows than steps x B.
// The sequence does not depend on prefetch depth, cache or residency. [loader] resident = auto
// keeps the shard in memory when it fits [loader] memory_mb. Batches are assembled on `device`
// (model/batch_assembler.hpp).
std::unique_ptr<BatchSource> make_streaming_source(comm::Communicator& comm, const Config& config,
                                                   torch::Device device = torch::kCPU,
                                                   const NormalizationStats* normalization = nullptr);

}  // namespace tickstream
