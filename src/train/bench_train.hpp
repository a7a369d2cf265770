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
// checksum, loss, forward_flops_per_sample, ...} (and "gemm" when asked) as JSON to `report`.
// Returns the exit code; InternalError when a check fails.
int bench_train_worker(RankContext& ctx, const nlohmann::json& args);

// torch::mm of float32 n x n matrices on this thread count, best of `repeats` per size, checked
// against a double-precision dot product on sampled entries: [{n, seconds, gflops}].
nlohmann::json gemm_reference(const std::vector<int64_t>& sizes, int repeats);

}  // namespace tickstream
