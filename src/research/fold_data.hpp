// What a walk-forward fold reads from the store beside its model: normalization statistics fitted
// on its own train window, and the realized outcomes of its test bars.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "data/feature_store.hpp"
#include "store/store_format.hpp"

namespace tickstream {

// Collective: mean and std of every feature over the /features rows valid in bars `train`, all
// tickers, in the features stage's fixed blocks of tickers merged in block order
// (features/running_stats.hpp: merge_blocks): over the features stage's own train period this is
// its /stats bit for bit, at any rank count.
NormalizationStats fit_window_stats(comm::Communicator& comm, const std::string& store, const BarRange& train);

// Realized outcomes of rows [begin, end) at bars `bars` (row-major [rows, bars.size()]).
struct Outcomes {
  std::vector<float> label;        // the store's label 0 (forward log return over the horizon); NaN when invalid
  std::vector<float> next_return;  // adjusted close t -> t+1 simple return; NaN unless both bars are valid
};
Outcomes read_outcomes(const std::string& store, int64_t begin, int64_t end, const BarRange& bars);

// Bars per year of the store's time axis: 252 sessions times the median bars per UTC day.
double bars_per_year(const std::vector<int64_t>& time);

}  // namespace tickstream
