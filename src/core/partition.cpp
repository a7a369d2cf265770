// Contiguous balanced partition of weighted items over ranks.
#include "core/partition.hpp"

#include <algorithm>

namespace tickstream {

std::vector<int> balanced_owners(const std::vector<int64_t>& weights, int ranks) {
  int64_t total = 0;
  for (int64_t w : weights) total += w;
  std::vector<int> owner(weights.size(), 0);
  int64_t before = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    // Doubles avoid overflow of before * ranks; the midpoint rule keeps the map monotone.
    const double mid = total > 0 ? (static_cast<double>(before) + weights[i] / 2.0) / total
                                 : (i + 0.5) / static_cast<double>(weights.size());
    owner[i] = std::min(ranks - 1, static_cast<int>(mid * ranks));
    before += weights[i];
  }
  return owner;
}

std::vector<int> balanced_owners_grouped(const std::vector<int64_t>& weights, int ranks, int64_t group) {
  group = std::max<int64_t>(group, 1);
  std::vector<int64_t> sums((weights.size() + static_cast<size_t>(group) - 1) / static_cast<size_t>(group), 0);
  for (size_t i = 0; i < weights.size(); ++i) sums[i / static_cast<size_t>(group)] += weights[i];
  const std::vector<int> group_owner = balanced_owners(sums, ranks);
  std::vector<int> owner(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) owner[i] = group_owner[i / static_cast<size_t>(group)];
  return owner;
}

std::pair<int64_t, int64_t> owned_range(const std::vector<int>& owners, int rank) {
  const auto first = std::lower_bound(owners.begin(), owners.end(), rank);
  const auto last = std::upper_bound(owners.begin(), owners.end(), rank);
  return {first - owners.begin(), last - owners.begin()};
}

}  // namespace tickstream
