// Worker side of `tickstream bench train`: one timed, verified training run and a GEMM reference.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/rank_context.hpp"

namespace tickstream {

// Collective. args: {config, warmup, steps, gemm (bool), report (path)}. Trains `warmup` untimed
// steps, then `steps` timed ones with the real Trainer (checkpoints, metrics and evaluation off),
// checks that every rank holds the same parameters and that the loss is finite, and rank 0 writes
// {ranks, threads_per_rank, steps, samples_per_s, step_s, comm_wait_s, comm_wait_fraction,
// checksum, loss, forward_flops_per_sample, ...} as JSON to `report`, with "gemm" (all ranks at
// once, gemm_reference) when asked.
// Returns the exit code; InternalError when a check fails.
int bench_train_worker(RankContext& ctx, const nlohmann::json& args);

// Collective: every rank multiplies float32 n x n matrices with torch::mm at the same time (its
// own intra-op threads), `reps` products per trial between barriers, best of `trials`; checked
// against a double-precision dot product on sampled entries. Per size: {n, ranks, seconds_per_mm,
// gflops (all ranks together), gflops_per_rank, max_relative_error}.
nlohmann::json gemm_reference(comm::Communicator& comm, const std::vector<int64_t>& sizes, int trials, int reps);

}  // namespace tickstream
