// Cross-sectional ranks over all ranks' predictions, and the confidence filter.
#pragma once

#include <cstdint>
#include <vector>

#include "comm/communicator.hpp"
#include "predict/prediction.hpp"

namespace tickstream {

// Collective: sets `rank` of every row to its position (1 = highest pred_return) among all rows of
// every rank with the same as-of time; ties go to the earlier ticker. `rows` are this rank's, in
// (asof, ticker) order, and ranks hold consecutive ticker ranges in rank order.
void assign_cross_sectional_ranks(comm::Communicator& comm, std::vector<Prediction>& rows);

// Drops rows whose confidence is below `min_confidence` (ranks stay those over every scored
// ticker, so a row's rank does not depend on the filter). Returns how many were dropped.
int64_t drop_below_confidence(std::vector<Prediction>& rows, double min_confidence);

}  // namespace tickstream
