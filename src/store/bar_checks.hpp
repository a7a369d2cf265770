// The range checks every reader applies to a parsed bar (docs/ingest.md, "Validation").
#pragma once

#include <optional>

#include "store/bars.hpp"
#include "store/column_map.hpp"

namespace tickstream {

struct BarProblem {
  RejectReason reason;
  Column column;  // the field the message names
};

// In order: every price positive (adj_close only when `has_adj_close`), high >= low, open and
// close within [low, high] (relative tolerance kRangeTolerance), volume >= 0. The first problem.
std::optional<BarProblem> check_bar_ranges(const Bar& bar, bool has_adj_close);

}  // namespace tickstream
