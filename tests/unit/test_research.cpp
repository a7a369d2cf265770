// The research loop's pure parts: walk-forward folds, the long-short book and its metrics, sweep
// grids, results and the best config. Closed-form expected values throughout.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.hpp"
#include "core/error.hpp"
#include "research/portfolio.hpp"
#include "research/sweep.hpp"
#include "research/sweep_grid.hpp"
#include "research/walk_forward.hpp"

namespace tickstream {
namespace {

WalkForwardSpec spec(int64_t train, int64_t test, bool rolling = false) {
  WalkForwardSpec s;
  s.train_bars = train, s.test_bars = test, s.rolling = rolling, s.horizon = 1, s.seq_len = 4;
  return s;
}

TEST(WalkForward, ExpandingFoldsTileTheTestBarsAndNeverTrainOnThem) {
  // 100 bars, horizon 1: bars 0..98 can be scored. Tests start at 40, 60, 80; the last is cut at 98.
  const std::vector<Fold> folds = plan_folds(spec(40, 20), 100);
  ASSERT_EQ(folds.size(), 3u);
  for (size_t k = 0; k < folds.size(); ++k) {
    EXPECT_EQ(folds[k].test.first, 40 + 20 * static_cast<int64_t>(k));
    EXPECT_EQ(folds[k].train.first, 0);
    EXPECT_EQ(folds[k].train.last, folds[k].test.first - 1);
    EXPECT_TRUE(folds[k].valid.empty());
    EXPECT_EQ(folds[k].fit.last, folds[k].train.last);
  }
  EXPECT_EQ(folds[2].test.last, 98);
}

TEST(WalkForward, RollingWindowsGapAndValidation) {
  WalkForwardSpec s = spec(30, 10, true);
  s.gap_bars = 5, s.valid_bars = 8;
  const std::vector<Fold> folds = plan_folds(s, 80);
  ASSERT_EQ(folds.size(), 5u);  // tests at 35, 45, 55, 65, 75 (the last cut at 78)
  for (const Fold& f : folds) {
    EXPECT_EQ(f.train.size(), 30);
    EXPECT_EQ(f.train.last, f.test.first - 6);  // 5 bars of gap
    EXPECT_EQ(f.valid.first, f.train.last - 7);
    EXPECT_EQ(f.valid.last, f.train.last);
    EXPECT_EQ(f.fit.last, f.valid.first - 1);
  }
  EXPECT_EQ(folds.back().test.last, 78);
}

TEST(WalkForward, BadSpecsAreInputErrors) {
  WalkForwardSpec s = spec(40, 20);
  s.step_bars = 10;  // two folds would test the same bars
  EXPECT_THROW(plan_folds(s, 100), InputError);
  EXPECT_THROW(plan_folds(spec(40, 20), 41), InputError);  // no bar left to test
  EXPECT_THROW(plan_folds(spec(4, 20), 100), InputError);  // shorter than seq_len + horizon
  WalkForwardSpec late = spec(40, 20);
  late.first_test = 30;  // leaves 30 < 40 train bars
  EXPECT_THROW(plan_folds(late, 100), InputError);
}

// Four tickers on two dates, one per leg (quantile 0.25); returns are binary fractions (exact in float).
constexpr double k64 = 1.0 / 64;
std::vector<ScoredBar> two_dates() {
  return {{0, 0, 0.4f, 2 * k64}, {0, 1, 0.3f, k64},     {0, 2, 0.2f, 0.0f},   {0, 3, 0.1f, -k64},
          {1, 0, 0.1f, 4 * k64}, {1, 1, 0.4f, -2 * k64}, {1, 2, 0.3f, k64}, {1, 3, 0.2f, 5 * k64}};
}

TEST(Portfolio, LongShortBookClosedForm) {
  const PortfolioSpec p{0.25, 10.0, 252.0};
  const std::vector<PortfolioDay> days = simulate_long_short(two_dates(), p);
  ASSERT_EQ(days.size(), 2u);
  // Day 0: long row 0 (+2/64), short row 3 (-1/64): gross 3/64; entering the book trades 2.
  EXPECT_DOUBLE_EQ(days[0].gross, 3 * k64);
  EXPECT_DOUBLE_EQ(days[0].traded, 2.0);
  EXPECT_DOUBLE_EQ(days[0].cost, 2.0 * 10e-4);
  EXPECT_DOUBLE_EQ(days[0].net, 3 * k64 - 0.002);
  // Day 1: long row 1 (-2/64), short row 0 (+4/64): every position changes: |0-1|+|1-0|+|-1-0|+|0+1| = 4.
  EXPECT_EQ(days[1].n_long, 1);
  EXPECT_DOUBLE_EQ(days[1].gross, -6 * k64);
  EXPECT_DOUBLE_EQ(days[1].traded, 4.0);
  EXPECT_DOUBLE_EQ(days[1].net, -6 * k64 - 0.004);
  EXPECT_DOUBLE_EQ(days[1].equity, (1 + 3 * k64 - 0.002) * (1 - 6 * k64 - 0.004));
  EXPECT_DOUBLE_EQ(days[1].drawdown, 1 - days[1].equity / days[0].equity);
}

TEST(Portfolio, MetricsClosedForm) {
  const PortfolioSpec p{0.25, 10.0, 252.0};
  const std::vector<PortfolioDay> days = simulate_long_short(two_dates(), p);
  const PortfolioMetrics m = portfolio_metrics(days, 0, days.size(), p);
  const double a = 3 * k64 - 0.002, b = -6 * k64 - 0.004, mean = (a + b) / 2;
  const double sd = std::sqrt((a - mean) * (a - mean) + (b - mean) * (b - mean));  // ddof 1, n = 2
  EXPECT_EQ(m.days, 2);
  EXPECT_NEAR(m.annual_return, mean * 252, 1e-12);
  EXPECT_NEAR(m.annual_volatility, sd * std::sqrt(252.0), 1e-12);
  EXPECT_NEAR(m.information_ratio, mean * 252 / (sd * std::sqrt(252.0)), 1e-9);
  EXPECT_NEAR(m.max_drawdown, -b, 1e-12);  // the peak is day 0's equity
  EXPECT_NEAR(m.turnover, (2.0 + 4.0) / 2 / 2, 1e-12);
  EXPECT_NEAR(m.total_return, (1 + a) * (1 + b) - 1, 1e-12);
  EXPECT_TRUE(std::isnan(portfolio_metrics(days, 1, 1, p).annual_return));  // no days
}

TEST(Portfolio, UntradableTickersAndThinDatesAreLeftOut) {
  std::vector<ScoredBar> s = two_dates();
  s[0].next_return = std::nanf("");  // row 0 halted after date 0: row 1 becomes the long leg
  s.push_back({2, 0, 0.5f, 0.01f});  // a date with one ticker: no book
  const std::vector<PortfolioDay> days = simulate_long_short(s, PortfolioSpec{0.25, 0.0, 252.0});
  ASSERT_EQ(days.size(), 2u);
  EXPECT_DOUBLE_EQ(days[0].long_return, k64);
  EXPECT_EQ(days[0].n_long, 1);
}

TEST(SweepGrid, GridIsTheCartesianProductLastKeyFastest) {
  const SweepGrid g = parse_sweep_grid("[grid]\n\"train.lr\" = [1e-3, 3e-4]\n\"model.kind\" = [\"gpt\", \"lstm\", \"mlp\"]\n",
                                       "g.toml");
  ASSERT_EQ(g.trials.size(), 6u);
  // toml++ orders keys by name: model.kind before train.lr; train.lr varies fastest.
  EXPECT_EQ(g.trials[0].overrides(), (std::vector<std::string>{"model.kind=\"gpt\"", "train.lr=0.001"}));
  EXPECT_EQ(g.trials[1].overrides(), (std::vector<std::string>{"model.kind=\"gpt\"", "train.lr=0.0003"}));
  EXPECT_EQ(g.trials[5].overrides(), (std::vector<std::string>{"model.kind=\"mlp\"", "train.lr=0.0003"}));
  EXPECT_EQ(g.trials[3].to_json(), (nlohmann::json{{"model.kind", "lstm"}, {"train.lr", 0.0003}}));
  const Config c = parse_config("[data]\nstore = \"s.h5\"\n", "base", g.trials[4].overrides());
  EXPECT_EQ(c.model.kind, "mlp");
  EXPECT_DOUBLE_EQ(c.train.lr, 1e-3);
}

TEST(SweepGrid, RandomSearchIsDeterministicAndInRange) {
  const std::string text = "[random]\ntrials = 50\nseed = 7\n\"train.lr\" = { log_uniform = [1e-4, 1e-2] }\n"
                           "\"model.d_model\" = { choice = [16, 32] }\n\"train.seed\" = { int_uniform = [1, 3] }\n";
  const SweepGrid a = parse_sweep_grid(text, "r.toml"), b = parse_sweep_grid(text, "r.toml");
  ASSERT_EQ(a.trials.size(), 50u);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  for (const TrialSpec& t : a.trials) {
    const nlohmann::json j = t.to_json();
    EXPECT_GE(j["train.lr"].get<double>(), 1e-4);
    EXPECT_LE(j["train.lr"].get<double>(), 1e-2);
    EXPECT_TRUE(j["model.d_model"] == 16 || j["model.d_model"] == 32);
    EXPECT_GE(j["train.seed"].get<int>(), 1);
    EXPECT_LE(j["train.seed"].get<int>(), 3);
  }
  EXPECT_NE(parse_sweep_grid(text + "", "r.toml").fingerprint,
            parse_sweep_grid("[random]\ntrials = 50\nseed = 8\n\"train.lr\" = { uniform = [0.1, 0.2] }\n", "r").fingerprint);
}

TEST(SweepGrid, BadGridsNameTheFileAndKey) {
  const auto message = [](const std::string& text) {
    try {
      parse_sweep_grid(text, "g.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("[grid]\n\"train.lrr\" = [1]\n").find("g.toml:2: \"train.lrr\" is not a config key"), std::string::npos);
  EXPECT_NE(message("[grid]\n\"train.lr\" = []\n").find("non-empty list"), std::string::npos);
  EXPECT_NE(message("[grid]\n\"train.lr\" = [1]\n[random]\ntrials = 2\n").find("exactly one"), std::string::npos);
  EXPECT_NE(message("[random]\ntrials = 2\n\"train.lr\" = { normal = [0, 1] }\n").find("unknown distribution"),
            std::string::npos);
  EXPECT_NE(message("[grid\n").find("g.toml:1"), std::string::npos);
}

TrialResult result(int64_t id, const std::string& status, double best) {
  TrialResult r;
  r.id = id, r.status = status, r.best_val_rank_ic = best, r.val_rank_ic = best, r.val_ic = r.val_loss = std::nan("");
  r.keys = {{"train.lr", 0.001 * static_cast<double>(id + 1)}};
  if (status != "ok") r.error = "bad, \"quoted\"";
  return r;
}

TEST(SweepResults, BestTrialCsvAndJsonRoundTrip) {
  const std::vector<TrialResult> rs{result(0, "ok", 0.05), result(1, "failed", std::nan("")), result(2, "ok", 0.07),
                                    result(3, "failed", 0.9)};
  EXPECT_EQ(best_trial(rs), 2);  // failed trials never win
  EXPECT_EQ(best_trial({result(0, "failed", 0.1)}), -1);
  const std::string csv = results_csv(rs);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "trial,status,train.lr,best_val_rank_ic,val_rank_ic,val_ic,val_loss,steps,seconds,group,error");
  EXPECT_NE(csv.find("1,failed,0.002,,,,,0,0.0,0,\"bad, \"\"quoted\"\"\""), std::string::npos);
  const TrialResult back = TrialResult::from_json(rs[2].to_json());
  EXPECT_EQ(back.to_json(), rs[2].to_json());
}

TEST(SweepResults, BestConfigIsTheBaseWithTheTrialsKeys) {
  const std::string dir = ::testing::TempDir() + "/sweep_best";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/base.toml") << "[data]\nstore = \"s.h5\"\n[train]\nlr = 0.1\nmax_steps = 5\n";
  SweepOptions o;
  o.config = dir + "/base.toml", o.grid = "g.toml", o.overrides = {"train.max_steps=7", "data.store=other.h5"};
  const SweepGrid g = parse_sweep_grid("[grid]\n\"train.lr\" = [0.5]\n\"model.kind\" = [\"lstm\"]\n", "g.toml");
  std::ofstream(dir + "/best.toml") << best_config_toml(o, g.trials[0]);
  const Config c = load_config(dir + "/best.toml");
  EXPECT_DOUBLE_EQ(c.train.lr, 0.5);
  EXPECT_EQ(c.train.max_steps, 7);
  EXPECT_EQ(c.model.kind, "lstm");
  EXPECT_EQ(c.data.store, "other.h5");
}

}  // namespace
}  // namespace tickstream
