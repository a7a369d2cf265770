// Shared by the file sinks: --out checks and the global (as-of, rank) row order of a prediction set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream {

// InputError naming --out unless `path` ends in one of `exts` and its directory exists and is
// writable. Rank-local.
void check_file_target(const std::string& path, const std::vector<std::string>& exts);

// Where each rank's rows go in the file. Every rank's rows are grouped by ascending as-of time
// and each rank holds a consecutive ticker range, so the global order is: as-of ascending, then
// rank order (= ticker order) within one as-of. A file row range per (as-of, rank) follows.
struct RowPlan {
  std::vector<int64_t> asofs;   // distinct as-of times over all ranks, ascending
  std::vector<int64_t> counts;  // counts[r * asofs.size() + d]: rank r's rows at asofs[d]
  int64_t total = 0;
  int rank = 0;
  int size = 1;
  int64_t count(int r, size_t d) const { return counts[static_cast<size_t>(r) * asofs.size() + d]; }
  int64_t local_begin(size_t d) const;  // index in this rank's rows of its first row at asofs[d]
  int64_t file_offset(size_t d) const;  // file row of this rank's first row at asofs[d]
};

// Collective. `mine` is the as-of time of each of this rank's rows; every rank fails (agreed,
// InternalError) when some rank's rows are not grouped by ascending as-of.
RowPlan plan_rows(comm::Communicator& comm, const std::vector<int64_t>& mine);

}  // namespace tickstream
