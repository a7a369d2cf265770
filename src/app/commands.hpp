// Subcommand registration: each subcommand adds itself to the CLI and returns its runner.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>

#include "runtime/rank_context.hpp"

namespace tickstream {

// Runs a parsed subcommand on every rank; returns the exit code.
using CommandRunner = std::function<int(RankContext&)>;

// Each add_* registers a subcommand on `app` and sets `runner` when that subcommand is chosen.
void add_synth(CLI::App& app, CommandRunner& runner);
void add_ingest(CLI::App& app, CommandRunner& runner);
void add_inspect(CLI::App& app, CommandRunner& runner);
void add_features(CLI::App& app, CommandRunner& runner);
void add_train(CLI::App& app, CommandRunner& runner);
void add_predict(CLI::App& app, CommandRunner& runner);
void add_backtest(CLI::App& app, CommandRunner& runner);
void add_sweep(CLI::App& app, CommandRunner& runner);
void add_bench(CLI::App& app, CommandRunner& runner);
void add_version(CLI::App& app, CommandRunner& runner);

// `--device auto|cuda|cpu` and `--oversubscribe-gpus` of the commands that run on a device.
struct DeviceFlags {
  std::string device = "auto";
  bool oversubscribe_gpus = false;
};
void add_device_flags(CLI::App& cmd, DeviceFlags& flags);
// Applies them to the rank's placement and chooses it, agreed over the ranks (a bad request is
// exit 2 on every rank, naming the node's problem).
void apply_device_flags(RankContext& ctx, const DeviceFlags& flags);

// Prints on rank 0 only (progress and results).
void print_root(const RankContext& ctx, const std::string& text);

// A benchmark's result on rank 0: `title` first unless `json_only`, then the JSON; also written
// atomically to `out` when it is not empty. Returns the exit code (0).
int report_bench(const RankContext& ctx, const nlohmann::json& result, bool json_only, const std::string& out,
                 const std::string& title);

}  // namespace tickstream
