// The `train` subcommand: rank placement, communicator choice, batch source, trainer, summary.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "model/device.hpp"
#include "runtime/rank_context.hpp"
#include "train/trainer.hpp"

namespace tickstream {

// The communicator `[dist] backend` resolves to for tensors on `device`.
std::unique_ptr<comm::Communicator> make_communicator(RankContext& ctx, const Config& config,
                                                      const torch::Device& device);

// Collective. Trains with `config` and returns the report (rank 0 prints the summary).
TrainReport run_training(RankContext& ctx, const Config& config, TrainOptions options);

// args: {config, set: [..], resume, stop_after}. Returns the exit code.
int train_command(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
