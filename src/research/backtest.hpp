// `tickstream backtest --walk-forward` (docs/research.md): every fold trained on its own past
// (its own normalization statistics), scored out of sample over its test window, and the
// long-short portfolio its scores imply.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "research/portfolio.hpp"
#include "research/walk_forward.hpp"
#include "runtime/rank_context.hpp"
#include "train/metrics.hpp"

namespace tickstream {

struct FoldResult {
  Fold fold;
  int64_t steps = 0;
  std::string stop_reason, checkpoint;
  double train_s = 0, score_s = 0;
  int64_t scored = 0;     // predictions made over the test window (all ranks)
  EvalMetrics oos;        // out of sample: the predictions against the store's labels
};

struct BacktestResult {
  std::vector<int64_t> time;      // the store's bar times
  std::vector<FoldResult> folds;
  EvalMetrics overall;            // every fold's out-of-sample predictions together
  std::vector<PortfolioDay> days; // the book over every test bar (rank 0 only)
  PortfolioSpec portfolio;
  double oracle_ic = 0;           // the synthetic store's planted IC; NaN for real data
  double seconds = 0;
};

// The walk-forward spec of `config`'s [backtest] section for a store of `time` bars.
WalkForwardSpec walk_forward_spec(const Config& config, const std::vector<int64_t>& time, int64_t horizon);

// The config one fold trains with: its fit and validation periods as [data] dates, its own
// checkpoint directory, metrics log and event files under `dir`. InputError when a period's
// dates would not select exactly the fold's bars (an intraday bar at 00:00 UTC).
Config fold_config(const Config& base, const Fold& fold, const std::vector<int64_t>& time, const std::string& dir);

// Collective. Runs every fold and the portfolio.
BacktestResult run_backtest(RankContext& ctx, const Config& config);

// The report (docs/research.md) and the daily portfolio CSV text.
nlohmann::json backtest_report(const BacktestResult& r, const Config& config);
std::string portfolio_csv(const BacktestResult& r);

// args: {config, set}. Rank 0 writes <out_dir>/backtest.json and portfolio.csv and prints the
// summary. Returns the exit code.
int backtest_command(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
