// The backtest's outputs: the JSON report, the daily portfolio CSV, the command's summary.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "comm/agreement.hpp"
#include "core/time.hpp"
#include "research/backtest.hpp"
#include "store/file_util.hpp"

namespace tickstream {
namespace {

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

nlohmann::json metrics_json(const EvalMetrics& m) {
  return {{"ic", number(m.ic)}, {"rank_ic", number(m.rank_ic)}, {"icir", number(m.icir)},
          {"samples", m.samples}, {"dates", m.dates}};
}

nlohmann::json range_json(const std::vector<int64_t>& time, const BarRange& r) {
  if (r.empty()) return nullptr;
  return {{"first", format_timestamp(time[static_cast<size_t>(r.first)])},
          {"last", format_timestamp(time[static_cast<size_t>(r.last)])}, {"bars", r.size()}};
}

// The book's days [first, last) that fall in the fold's test window.
std::pair<size_t, size_t> fold_days(const std::vector<PortfolioDay>& days, const Fold& f) {
  size_t a = 0;
  while (a < days.size() && days[a].date < f.test.first) ++a;
  size_t b = a;
  while (b < days.size() && days[b].date <= f.test.last) ++b;
  return {a, b};
}

int fold_of(const BacktestResult& r, int32_t date) {
  for (const FoldResult& f : r.folds)
    if (date >= f.fold.test.first && date <= f.fold.test.last) return static_cast<int>(f.fold.index);
  return -1;
}

}  // namespace

nlohmann::json backtest_report(const BacktestResult& r, const Config& c) {
  nlohmann::json folds = nlohmann::json::array();
  double rank_ic_sum = 0;
  int64_t rank_ic_folds = 0;
  for (const FoldResult& f : r.folds) {
    const auto [a, b] = fold_days(r.days, f.fold);
    folds.push_back({{"fold", f.fold.index}, {"train", range_json(r.time, f.fold.train)},
                     {"fit", range_json(r.time, f.fold.fit)}, {"valid", range_json(r.time, f.fold.valid)},
                     {"test", range_json(r.time, f.fold.test)}, {"steps", f.steps}, {"stop_reason", f.stop_reason},
                     {"checkpoint", f.checkpoint}, {"scored", f.scored}, {"train_s", f.train_s}, {"score_s", f.score_s},
                     {"oos", metrics_json(f.oos)}, {"portfolio", portfolio_metrics(r.days, a, b, r.portfolio).to_json()}});
    if (std::isfinite(f.oos.rank_ic)) rank_ic_sum += f.oos.rank_ic, ++rank_ic_folds;
  }
  const double mean_fold = rank_ic_folds ? rank_ic_sum / static_cast<double>(rank_ic_folds) : std::nan("");
  nlohmann::json overall = metrics_json(r.overall);
  overall["mean_fold_rank_ic"] = number(mean_fold);
  overall["oracle_ic"] = number(r.oracle_ic);
  overall["mean_fold_rank_ic_vs_oracle"] = number(mean_fold / r.oracle_ic);
  nlohmann::json book = portfolio_metrics(r.days, 0, r.days.size(), r.portfolio).to_json();
  book["quantile"] = r.portfolio.quantile, book["cost_bps"] = r.portfolio.cost_bps;
  book["periods_per_year"] = r.portfolio.periods_per_year;
  return {{"store", c.data.store}, {"config_hash", c.hash()}, {"backtest", c.to_json()["backtest"]},
          {"folds", folds}, {"overall", overall}, {"portfolio", book}, {"seconds", r.seconds},
          {"outputs", {{"json", c.backtest.out_dir + "/backtest.json"}, {"csv", c.backtest.out_dir + "/portfolio.csv"},
                       {"png", c.backtest.out_dir + "/backtest.png"}}}};
}

std::string portfolio_csv(const BacktestResult& r) {
  std::string out = "date,fold,n_long,n_short,long_return,short_return,gross,traded,cost,net,equity,drawdown\n";
  for (const PortfolioDay& d : r.days)
    out += fmt::format("{},{},{},{},{:.8g},{:.8g},{:.8g},{:.6g},{:.8g},{:.8g},{:.8g},{:.8g}\n",
                       format_timestamp(r.time[static_cast<size_t>(d.date)]), fold_of(r, d.date), d.n_long, d.n_short,
                       d.long_return, d.short_return, d.gross, d.traded, d.cost, d.net, d.equity, d.drawdown);
  return out;
}

int backtest_command(RankContext& ctx, const nlohmann::json& args) {
  Config config;
  run_agreed(ctx.comm(), [&] {
    config = load_config(args.at("config").get<std::string>(), args.at("set").get<std::vector<std::string>>());
  });
  const BacktestResult r = run_backtest(ctx, config);
  run_agreed(ctx.comm(), [&] {
    if (!ctx.is_root()) return;
    const nlohmann::json report = backtest_report(r, config);
    write_file_atomically(config.backtest.out_dir + "/portfolio.csv", portfolio_csv(r));
    write_file_atomically(config.backtest.out_dir + "/backtest.json", report.dump(2) + "\n");
    const nlohmann::json& o = report["overall"];
    const PortfolioMetrics p = portfolio_metrics(r.days, 0, r.days.size(), r.portfolio);
    fmt::print("backtest: {} folds out of sample: IC {:.4f}  rank IC {:.4f}  ICIR {:.3f}; mean fold rank IC {:.4f} "
               "(oracle IC {:.4f})\n", r.folds.size(), r.overall.ic, r.overall.rank_ic, r.overall.icir,
               o["mean_fold_rank_ic"].is_number() ? o["mean_fold_rank_ic"].get<double>() : std::nan(""), r.oracle_ic);
    fmt::print("backtest: long-short top/bottom {:.0f}% at {} bps over {} bars: annual return {:.2f}%  volatility "
               "{:.2f}%  information ratio {:.2f}  max drawdown {:.2f}%  turnover {:.1f}%/bar\n",
               100 * r.portfolio.quantile, r.portfolio.cost_bps, p.days, 100 * p.annual_return,
               100 * p.annual_volatility, p.information_ratio, 100 * p.max_drawdown, 100 * p.turnover);
    fmt::print("backtest: wrote {}/backtest.json, {}/portfolio.csv\n", config.backtest.out_dir, config.backtest.out_dir);
  });
  return 0;
}

}  // namespace tickstream
