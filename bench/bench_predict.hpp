// Worker side of `tickstream bench predict`: the benchmark's checkpoint, and one timed prediction run.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "data/feature_store.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {

// Saves the config's model initialized from [train] seed (untrained) as a step-0 checkpoint in
// `dir` that prediction accepts for `store` (its feature names, statistics and hash), with
// `label_scale` and model id "<kind>-<config hash>-s0". Call on one rank.
struct InitialCheckpoint {
  std::string path;  // the .pt
  std::string model_id;
  int64_t parameters = 0;
};
InitialCheckpoint save_initial_checkpoint(const Config& config, const FeatureStoreInfo& store, const std::string& dir,
                                          double label_scale);

// args: {config, checkpoint (a directory), report (path), init (bool), out (.h5, unless init),
// gemm (bool)}.
// init: rank 0 writes a checkpoint of the config's model initialized from [train] seed (not
// trained: throughput does not depend on the weights) into `checkpoint`, with the store's feature
// names, statistics and features hash, label_scale 1, the resolved config and a model id, and
// reports {checkpoint, model_id, parameters}.
// Otherwise (collective): run_prediction of every ticker at the store's last bar into `out`; rank
// 0 reports {ranks, threads_per_rank, features, forward_flops_per_sample, prediction (the
// run_prediction summary), gemm (all ranks at once, gemm_reference; when asked)}.
// Returns the exit code.
int bench_predict_worker(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
