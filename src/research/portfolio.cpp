// Long-short portfolio simulation and its metrics.
#include "research/portfolio.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace tickstream {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Weights = std::map<int32_t, double>;  // row -> weight

double traded_between(const Weights& before, const Weights& after) {
  double traded = 0;
  for (const auto& [row, w] : after) {
    const auto it = before.find(row);
    traded += std::fabs(w - (it == before.end() ? 0.0 : it->second));
  }
  for (const auto& [row, w] : before)
    if (!after.count(row)) traded += std::fabs(w);
  return traded;
}

// One date's cross-section [begin, end) of tradable tickers, sorted by pred descending: the legs,
// their returns and the new weights.
PortfolioDay book_of_day(const ScoredBar* begin, const ScoredBar* end, const PortfolioSpec& spec, Weights& weights) {
  const auto n = static_cast<int64_t>(end - begin);
  const int64_t leg = std::max<int64_t>(1, static_cast<int64_t>(std::floor(spec.quantile * static_cast<double>(n))));
  const int64_t legs = std::min(leg, n / 2);
  PortfolioDay d;
  d.date = begin->date, d.n_long = legs, d.n_short = legs;
  Weights next;
  for (int64_t k = 0; k < legs; ++k) {
    d.long_return += begin[k].next_return, next[begin[k].row] = 1.0 / static_cast<double>(legs);
    d.short_return += end[-1 - k].next_return, next[end[-1 - k].row] = -1.0 / static_cast<double>(legs);
  }
  d.long_return /= static_cast<double>(legs), d.short_return /= static_cast<double>(legs);
  d.gross = d.long_return - d.short_return;
  d.traded = traded_between(weights, next);
  d.cost = d.traded * spec.cost_bps * 1e-4;
  d.net = d.gross - d.cost;
  weights = std::move(next);
  return d;
}

}  // namespace

std::vector<PortfolioDay> simulate_long_short(std::vector<ScoredBar> scored, const PortfolioSpec& spec) {
  scored.erase(std::remove_if(scored.begin(), scored.end(),
                              [](const ScoredBar& s) { return !std::isfinite(s.next_return) || !std::isfinite(s.pred); }),
               scored.end());
  std::sort(scored.begin(), scored.end(), [](const ScoredBar& a, const ScoredBar& b) {
    if (a.date != b.date) return a.date < b.date;
    if (a.pred != b.pred) return a.pred > b.pred;
    return a.row < b.row;
  });
  std::vector<PortfolioDay> days;
  Weights weights;
  double equity = 1, peak = 1;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].date == scored[i].date) ++j;
    if (j - i >= 2) {
      PortfolioDay d = book_of_day(scored.data() + i, scored.data() + j, spec, weights);
      equity *= 1.0 + d.net, peak = std::max(peak, equity);
      d.equity = equity, d.drawdown = 1.0 - equity / peak;
      days.push_back(d);
    }
    i = j;
  }
  return days;
}

PortfolioMetrics portfolio_metrics(const std::vector<PortfolioDay>& days, size_t first, size_t last,
                                   const PortfolioSpec& spec) {
  PortfolioMetrics m;
  m.days = static_cast<int64_t>(last - first);
  if (m.days == 0) {
    m.total_return = m.annual_return = m.annual_volatility = m.information_ratio = m.max_drawdown = m.turnover = kNaN;
    return m;
  }
  double sum = 0, traded = 0, equity = 1, peak = 1;
  for (size_t i = first; i < last; ++i) {
    sum += days[i].net, traded += days[i].traded;
    equity *= 1.0 + days[i].net, peak = std::max(peak, equity);
    m.max_drawdown = std::max(m.max_drawdown, 1.0 - equity / peak);
  }
  const double n = static_cast<double>(m.days), mean = sum / n;
  double ss = 0;
  for (size_t i = first; i < last; ++i) ss += (days[i].net - mean) * (days[i].net - mean);
  const double sd = m.days >= 2 ? std::sqrt(ss / (n - 1)) : kNaN;
  m.total_return = equity - 1.0;
  m.annual_return = mean * spec.periods_per_year;
  m.annual_volatility = sd * std::sqrt(spec.periods_per_year);
  m.information_ratio = m.annual_volatility > 0 ? m.annual_return / m.annual_volatility : kNaN;
  m.turnover = traded / n / 2.0;
  return m;
}

nlohmann::json PortfolioMetrics::to_json() const {
  const auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  return {{"days", days}, {"total_return", num(total_return)}, {"annual_return", num(annual_return)},
          {"annual_volatility", num(annual_volatility)}, {"information_ratio", num(information_ratio)},
          {"max_drawdown", num(max_drawdown)}, {"turnover", num(turnover)}};
}

}  // namespace tickstream
