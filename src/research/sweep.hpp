// `tickstream sweep --config C --grid G.toml` (docs/research.md): the world's ranks split into
// groups (MPI_Comm_split); each group trains one trial at a time data-parallel, taking the next
// unclaimed trial when it frees; results, resume after a kill, the best config.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "research/sweep_grid.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {

struct SweepOptions {
  std::string config, grid, out = "runs/sweep";
  std::vector<std::string> overrides;  // --set, applied to every trial before its own keys
  int group_size = 1;                  // ranks per trial
};

struct TrialResult {
  int64_t id = 0;
  std::string status;  // "ok" | "failed"
  nlohmann::json keys;
  double best_val_rank_ic = 0, val_rank_ic = 0, val_ic = 0, val_loss = 0;  // NaN when not evaluated
  int64_t steps = 0;
  double seconds = 0;
  int group = 0;
  std::string stop_reason, error;
  nlohmann::json to_json() const;
  static TrialResult from_json(const nlohmann::json& j);
};

// Every trial's directory: <out>/trial-<id, 4 digits>.
std::string trial_dir(const std::string& out, int64_t id);

// Collective. Runs the trials not yet finished in `out` (a result.json marks a finished one) and
// returns every trial's result on rank 0 (empty elsewhere), in trial order.
std::vector<TrialResult> run_sweep(RankContext& ctx, const SweepOptions& options);

// results.csv text (a row per trial: id, status, keys..., metrics) and the best trial (highest
// best validation rank IC among the "ok" ones; -1 when none).
std::string results_csv(const std::vector<TrialResult>& results);
int64_t best_trial(const std::vector<TrialResult>& results);

// The base config file with the trial's keys (and --set overrides) written in, as TOML text; its
// checkpoints, metrics log and event files go to <out>/best/.
std::string best_config_toml(const SweepOptions& options, const TrialSpec& trial);

// args: {config, grid, out, set, group_size}. Rank 0 writes <out>/results.csv, results.json and
// best.toml and prints the table.
int sweep_command(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
