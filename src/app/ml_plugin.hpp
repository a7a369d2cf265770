// Loads the ML library (libtorch: train, predict) on demand, so other subcommands start fast.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/rank_context.hpp"

namespace tickstream {

// dlopens libtickstream_ml.so from the executable's directory (TICKSTREAM_ML_LIBRARY overrides)
// and runs `command` ("train", "bench-train", ...) with its parsed arguments. Exceptions from
// the library propagate as they are. InternalError naming the file when it cannot be loaded.
int run_ml_command(RankContext& ctx, const std::string& command, const nlohmann::json& args);

}  // namespace tickstream
