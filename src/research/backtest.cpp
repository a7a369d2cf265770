// Walk-forward backtest: folds -> per-fold statistics, training, out-of-sample scoring -> metrics
// and the long-short book.
#include "research/backtest.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "comm/agreement.hpp"
#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/time.hpp"
#include "model/checkpoint.hpp"
#include "model/device.hpp"
#include "predict/predict_command.hpp"
#include "research/fold_data.hpp"
#include "store/h5.hpp"
#include "store/store_reader.hpp"
#include "train/train_command.hpp"

namespace tickstream {
namespace {

int64_t bar_at_or_after(const std::vector<int64_t>& time, int64_t seconds) {
  return std::lower_bound(time.begin(), time.end(), seconds) - time.begin();
}

std::string fold_dir(const Config& c, int64_t index) {
  return fmt::format("{}/fold-{:03d}", c.backtest.out_dir, index);
}

// The period's dates must select exactly `want` (period_bars widens a 00:00 UTC end to its day).
void set_period(int64_t& start, int64_t& end, const BarRange& want, const std::vector<int64_t>& time, const char* what) {
  start = time[static_cast<size_t>(want.first)], end = time[static_cast<size_t>(want.last)];
  const BarRange got = period_bars(time, start, end);
  TS_REQUIRE_INPUT(got.first == want.first && got.last == want.last,
                   "[backtest]: the fold's {} period ends at {}, a bar at 00:00 UTC followed by more bars that day; "
                   "[data] dates cannot select it exactly", what, format_timestamp(end, false));
}

// Removes an earlier backtest's fold directories and outputs under out_dir (rank 0).
void prepare_out_dir(const Config& c) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(c.backtest.out_dir, ec);
  TS_REQUIRE_INPUT(!ec, "[backtest] out_dir = {}: cannot create: {}", c.backtest.out_dir, ec.message());
  for (const auto& entry : fs::directory_iterator(c.backtest.out_dir)) {
    const std::string name = entry.path().filename().string();
    const bool ours = name.rfind("fold-", 0) == 0 || name == "backtest.json" || name == "portfolio.csv" ||
                      name == "backtest.png";
    if (ours) fs::remove_all(entry.path());  // a failed run leaves no report of an earlier one
  }
}

double read_oracle_ic(const std::string& store) {
  const StoreReader reader(store);
  return h5::has_attr(reader.root(), "oracle_ic") ? h5::get_attr_double(reader.root(), "oracle_ic")
                                                  : std::numeric_limits<double>::quiet_NaN();
}

struct FoldScores {
  std::vector<EvalSample> samples;  // predictions with a realized label
  std::vector<ScoredBar> scored;    // every prediction, for the book
};

// This rank's predictions over the fold's test window joined with their realized outcomes.
FoldScores join_outcomes(const PredictionSet& set, const FeatureStoreInfo& info, const Fold& fold) {
  FoldScores out;
  if (set.rows.empty()) return out;
  std::vector<int32_t> rows;
  for (const Prediction& p : set.rows)
    rows.push_back(static_cast<int32_t>(std::lower_bound(info.tickers.begin(), info.tickers.end(), p.ticker) -
                                        info.tickers.begin()));
  const auto [lo, hi] = std::minmax_element(rows.begin(), rows.end());
  const Outcomes o = read_outcomes(info.path, *lo, *hi + 1, fold.test);
  const int64_t n = fold.test.size();
  for (size_t k = 0; k < rows.size(); ++k) {
    const Prediction& p = set.rows[k];
    const auto bar = static_cast<int32_t>(bar_at_or_after(info.time, p.asof));
    const auto cell = static_cast<size_t>((rows[k] - *lo) * n + (bar - fold.test.first));
    out.scored.push_back(ScoredBar{bar, rows[k], p.pred_return, o.next_return[cell]});
    if (std::isfinite(o.label[cell])) out.samples.push_back(EvalSample{bar, p.pred_return, o.label[cell], p.prob_up});
  }
  return out;
}

// Scores the fold's test bars with its checkpoint (collective).
PredictionSet score_fold(RankContext& ctx, const Config& fc, const FeatureStoreInfo& info, const Fold& fold,
                         const std::string& checkpoint) {
  const torch::Device device = prepare_device(ctx);
  std::unique_ptr<Predictor> predictor;
  run_agreed(ctx.comm(), [&] { predictor = std::make_unique<Predictor>(checkpoint, info, device, fc.predict.batch_size); });
  std::vector<int64_t> asof;
  for (int64_t t = fold.test.first; t <= fold.test.last; ++t) asof.push_back(t);
  ScoreTimings timings;
  return score_shard(ctx.comm(), fc, info, *predictor, asof, timings);
}

FoldResult run_fold(RankContext& ctx, const Config& c, const FeatureStoreInfo& info, const Fold& fold,
                    const std::string& warm_from, FoldScores& all) {
  FoldResult r;
  r.fold = fold;
  const double t0 = monotonic_seconds();
  const NormalizationStats stats = fit_window_stats(ctx.comm(), c.data.store, fold.train);
  const Config fc = fold_config(c, fold, info.time, fold_dir(c, fold.index));
  TrainOptions options;
  options.normalization = &stats;
  options.evaluate = !fold.valid.empty();
  options.init_weights = warm_from;
  const TrainReport tr = run_training(ctx, fc, options);
  r.steps = tr.step, r.stop_reason = tr.stop_reason;
  ctx.comm().barrier();  // rank 0 has written the checkpoint: every rank finds it
  run_agreed(ctx.comm(), [&] {
    const auto newest = resolve_checkpoint(fc.train.checkpoint_dir);
    TS_CHECK(newest.has_value(), "fold {}: no checkpoint in {} after training", fold.index, fc.train.checkpoint_dir);
    r.checkpoint = *newest;
  });
  const double t1 = monotonic_seconds();
  const FoldScores mine = join_outcomes(score_fold(ctx, fc, info, fold, r.checkpoint), info, fold);
  r.oos = compute_metrics_distributed(ctx.comm(), mine.samples);
  r.scored = comm::allreduce<int64_t>(ctx.comm(), static_cast<int64_t>(mine.scored.size()), comm::ReduceOp::sum);
  all.samples.insert(all.samples.end(), mine.samples.begin(), mine.samples.end());
  all.scored.insert(all.scored.end(), mine.scored.begin(), mine.scored.end());
  r.train_s = t1 - t0, r.score_s = monotonic_seconds() - t1;
  r.train_s = comm::allreduce(ctx.comm(), r.train_s, comm::ReduceOp::max);
  r.score_s = comm::allreduce(ctx.comm(), r.score_s, comm::ReduceOp::max);
  return r;
}

}  // namespace

WalkForwardSpec walk_forward_spec(const Config& c, const std::vector<int64_t>& time, int64_t horizon) {
  WalkForwardSpec s;
  const Config::Backtest& b = c.backtest;
  s.train_bars = b.train_bars, s.valid_bars = b.valid_bars, s.gap_bars = b.gap_bars, s.test_bars = b.test_bars;
  s.step_bars = b.step_bars, s.rolling = b.window == "rolling", s.horizon = horizon, s.seq_len = c.model.seq_len;
  s.start = c.data.train_start ? bar_at_or_after(time, c.data.train_start) : 0;
  s.first_test = b.first_test ? bar_at_or_after(time, b.first_test) : -1;
  return s;
}

Config fold_config(const Config& base, const Fold& fold, const std::vector<int64_t>& time, const std::string& dir) {
  Config c = base;
  set_period(c.data.train_start, c.data.train_end, fold.fit, time, "train");
  if (fold.valid.empty()) {
    c.data.valid_start = c.data.valid_end = time.back() + 1;  // after the last bar: no validation windows
  } else {
    set_period(c.data.valid_start, c.data.valid_end, fold.valid, time, "validation");
  }
  c.data.test_start = 0;
  c.train.checkpoint_dir = dir + "/ckpt";
  c.train.metrics = dir + "/metrics.jsonl";
  c.train.tensorboard_dir = dir + "/tb";
  c.train.keep_checkpoints = 1;
  return c;
}

BacktestResult run_backtest(RankContext& ctx, const Config& c) {
  const double t0 = monotonic_seconds();
  BacktestResult r;
  FeatureStoreInfo info;
  std::vector<Fold> folds;
  run_agreed(ctx.comm(), [&] {
    info = read_feature_info(StoreReader(c.data.store));
    folds = plan_folds(walk_forward_spec(c, info.time, info.horizon), info.bars());
    r.oracle_ic = read_oracle_ic(c.data.store);
    if (ctx.is_root()) prepare_out_dir(c);
  });
  r.time = info.time;
  FoldScores all;
  std::string warm_from;
  for (const Fold& fold : folds) {
    if (ctx.is_root())
      fmt::print("backtest: fold {}/{}: train {} (validation {}), test {}\n", fold.index + 1, folds.size(),
                 describe_range(info.time, fold.train), describe_range(info.time, fold.valid),
                 describe_range(info.time, fold.test));
    r.folds.push_back(run_fold(ctx, c, info, fold, warm_from, all));
    if (c.backtest.init == "warm") warm_from = r.folds.back().checkpoint;
    const EvalMetrics& m = r.folds.back().oos;
    if (ctx.is_root())
      fmt::print("backtest: fold {}: {} steps, out of sample IC {:.4f} rank IC {:.4f} ICIR {:.3f} over {} dates\n",
                 fold.index + 1, r.folds.back().steps, m.ic, m.rank_ic, m.icir, m.dates);
  }
  r.overall = compute_metrics_distributed(ctx.comm(), all.samples);
  r.portfolio = PortfolioSpec{c.backtest.quantile, c.backtest.cost_bps, bars_per_year(info.time)};
  const std::vector<ScoredBar> book = comm::allgatherv(ctx.comm(), all.scored);
  if (ctx.is_root()) r.days = simulate_long_short(book, r.portfolio);
  r.seconds = monotonic_seconds() - t0;
  return r;
}

}  // namespace tickstream
