// Walk-forward fold plan: pure arithmetic on bar indices.
#include "research/walk_forward.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/time.hpp"

namespace tickstream {
namespace {

void check_spec(const WalkForwardSpec& s, int64_t bars) {
  TS_REQUIRE_INPUT(s.test_bars >= 1, "[backtest] test_bars = {}: at least 1", s.test_bars);
  TS_REQUIRE_INPUT(s.step_bars == 0 || s.step_bars >= s.test_bars,
                   "[backtest] step_bars = {}: at least test_bars ({}), so that no bar is tested by two folds",
                   s.step_bars, s.test_bars);
  const int64_t need = s.seq_len + s.horizon + s.valid_bars;
  TS_REQUIRE_INPUT(s.train_bars >= need,
                   "[backtest] train_bars = {}: a train window needs at least seq_len + horizon + valid_bars = {} bars",
                   s.train_bars, need);
  TS_REQUIRE_INPUT(s.start >= 0 && s.start < bars, "[backtest]: the first train bar {} lies outside the store's {} bars",
                   s.start, bars);
}

}  // namespace

std::vector<Fold> plan_folds(const WalkForwardSpec& s, int64_t bars) {
  check_spec(s, bars);
  const int64_t step = s.step_bars ? s.step_bars : s.test_bars;
  const int64_t first_test = s.first_test >= 0 ? s.first_test : s.start + s.train_bars + s.gap_bars;
  TS_REQUIRE_INPUT(first_test - s.gap_bars - s.start >= s.train_bars,
                   "[backtest] first_test leaves {} train bars before the first test window; train_bars = {}",
                   first_test - s.gap_bars - s.start, s.train_bars);
  const int64_t last_scorable = bars - 1 - s.horizon;
  std::vector<Fold> folds;
  for (int64_t test = first_test; test <= last_scorable; test += step) {
    Fold f;
    f.index = static_cast<int64_t>(folds.size());
    f.test = BarRange{test, std::min(test + s.test_bars - 1, last_scorable)};
    const int64_t train_last = test - s.gap_bars - 1;
    f.train = BarRange{s.rolling ? train_last - s.train_bars + 1 : s.start, train_last};
    f.fit = BarRange{f.train.first, train_last - s.valid_bars};
    f.valid = s.valid_bars ? BarRange{train_last - s.valid_bars + 1, train_last} : BarRange{0, -1};
    folds.push_back(f);
  }
  TS_REQUIRE_INPUT(!folds.empty(),
                   "[backtest]: no fold fits the store: the first test bar {} is after the last scorable bar {} "
                   "({} bars, horizon {})", first_test, last_scorable, bars, s.horizon);
  return folds;
}

std::string describe_range(const std::vector<int64_t>& time, const BarRange& r) {
  if (r.empty()) return "-";
  return format_timestamp(time[static_cast<size_t>(r.first)]) + ".." + format_timestamp(time[static_cast<size_t>(r.last)]);
}

}  // namespace tickstream
