// Contiguous balanced partition of weighted items over ranks.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tickstream {

// Owner rank of each item: the rank whose share of the cumulative weight holds the item's
// midpoint. Monotone in the index, so every rank owns one contiguous (possibly empty) range.
std::vector<int> balanced_owners(const std::vector<int64_t>& weights, int ranks);

// balanced_owners over groups of `group` consecutive items (e.g. the rows of one HDF5 chunk), so
// no group is split between ranks.
std::vector<int> balanced_owners_grouped(const std::vector<int64_t>& weights, int ranks, int64_t group);

// [begin, end) of the items owned by `rank` under balanced_owners.
std::pair<int64_t, int64_t> owned_range(const std::vector<int>& owners, int rank);

}  // namespace tickstream
