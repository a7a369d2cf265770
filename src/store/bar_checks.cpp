// Bar range checks shared by the CSV and Parquet readers.
#include "store/bar_checks.hpp"

#include "store/csv_reader.hpp"

namespace tickstream {

std::optional<BarProblem> check_bar_ranges(const Bar& bar, bool has_adj_close) {
  const std::pair<Column, double> prices[] = {{Column::Open, bar.open},
                                              {Column::High, bar.high},
                                              {Column::Low, bar.low},
                                              {Column::Close, bar.close},
                                              {Column::AdjClose, bar.adj_close}};
  for (const auto& [column, value] : prices) {
    if (column == Column::AdjClose && !has_adj_close) continue;
    if (!(value > 0)) return BarProblem{RejectReason::NonPositivePrice, column};
  }
  if (bar.high < bar.low) return BarProblem{RejectReason::HighBelowLow, Column::High};
  const double lo = bar.low * (1 - kRangeTolerance);
  const double hi = bar.high * (1 + kRangeTolerance);
  if (bar.open < lo || bar.open > hi) return BarProblem{RejectReason::OpenCloseOutsideRange, Column::Open};
  if (bar.close < lo || bar.close > hi) return BarProblem{RejectReason::OpenCloseOutsideRange, Column::Close};
  if (bar.volume < 0) return BarProblem{RejectReason::NegativeVolume, Column::Volume};
  return std::nullopt;
}

}  // namespace tickstream
