// The long-short portfolio a model's scores imply (docs/research.md): each bar, equal weight long
// the top quantile and short the bottom quantile of the scored, tradable tickers; held one bar.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

// One scored ticker at one bar.
struct ScoredBar {
  int32_t date = 0;          // bar index of the as-of bar
  int32_t row = 0;           // ticker row in the store
  float pred = 0;            // predicted forward return (the score)
  float next_return = 0;     // simple return from this bar's close to the next bar's; NaN: not tradable
};

struct PortfolioSpec {
  double quantile = 0.2;           // fraction of the cross-section in each leg (at least 1 ticker)
  double cost_bps = 5;             // cost per unit of traded notional, basis points
  double periods_per_year = 252;   // bars per year: annualization
};

// One bar of the book: $1 long split equally over the long leg, $1 short over the short leg.
struct PortfolioDay {
  int32_t date = 0;
  int64_t n_long = 0, n_short = 0;
  double long_return = 0, short_return = 0;  // mean next_return of each leg
  double gross = 0;    // long_return - short_return
  double traded = 0;   // sum over tickers of |weight change| (entering the first book: 2)
  double cost = 0;     // traded * cost_bps / 1e4
  double net = 0;      // gross - cost
  double equity = 1;   // product of (1 + net) up to and including this bar
  double drawdown = 0; // 1 - equity / running peak of equity (the start, 1, counts as a peak)
};

struct PortfolioMetrics {
  int64_t days = 0;
  double total_return = 0;       // product of (1 + net) - 1
  double annual_return = 0;      // mean(net) * periods_per_year
  double annual_volatility = 0;  // sd(net, ddof 1) * sqrt(periods_per_year)
  double information_ratio = 0;  // annual_return / annual_volatility (the book is market-neutral: no benchmark)
  double max_drawdown = 0;       // largest drawdown over the days
  double turnover = 0;           // mean traded / 2: the fraction of the $2 book replaced per bar
  nlohmann::json to_json() const;
};

// The book bar by bar over every date with at least 2 tradable tickers (scored, next_return
// finite), in date order; ties in pred go to the lower row. Weights are rebalanced to equal
// weight every bar; a ticker leaving the book is sold, one entering bought (traded notional).
std::vector<PortfolioDay> simulate_long_short(std::vector<ScoredBar> scored, const PortfolioSpec& spec);

// Metrics over days[first, last) (equity and drawdown re-based at `first`). NaN where undefined
// (no days; volatility and ratio with fewer than 2 days or zero spread).
PortfolioMetrics portfolio_metrics(const std::vector<PortfolioDay>& days, size_t first, size_t last,
                                   const PortfolioSpec& spec);

}  // namespace tickstream
