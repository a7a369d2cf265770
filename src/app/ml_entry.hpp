// The ML library's one entry point, looked up with dlsym by the CLI (app/ml_plugin.cpp).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/rank_context.hpp"

namespace tickstream {

using MlEntryFn = int (*)(RankContext& ctx, const std::string& command, const nlohmann::json& args);
inline constexpr const char* kMlEntrySymbol = "tickstream_ml_entry";

// "train": {config, set: [..], resume, stop_after}.
int run_ml_entry(RankContext& ctx, const std::string& command, const nlohmann::json& args);

}  // namespace tickstream
