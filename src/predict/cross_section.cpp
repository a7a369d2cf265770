// Cross-sectional ranks: every rank gathers (asof, pred_return) of all rows and ranks its own.
#include "predict/cross_section.hpp"

#include <algorithm>
#include <numeric>

#include "comm/collectives.hpp"

namespace tickstream {
namespace {

struct Scored {
  int64_t asof;
  float pred;
  int32_t unused;  // no uninitialized padding on the wire
};

}  // namespace

void assign_cross_sectional_ranks(comm::Communicator& comm, std::vector<Prediction>& rows) {
  std::vector<Scored> mine;
  mine.reserve(rows.size());
  for (const Prediction& p : rows) mine.push_back({p.asof, p.pred_return, 0});
  const std::vector<int64_t> counts = comm::allgather<int64_t>(comm, static_cast<int64_t>(mine.size()));
  const std::vector<Scored> all = comm::allgatherv(comm, mine);
  const int me = comm.rank();
  const int64_t offset = std::accumulate(counts.begin(), counts.begin() + me, int64_t{0});
  // Concatenated in rank order, equal as-of times keep ticker order: the index breaks ties.
  std::vector<int64_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const Scored& x = all[static_cast<size_t>(a)];
    const Scored& y = all[static_cast<size_t>(b)];
    if (x.asof != y.asof) return x.asof < y.asof;
    if (x.pred != y.pred) return x.pred > y.pred;
    return a < b;
  });
  int64_t position = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    position = i > 0 && all[static_cast<size_t>(order[i - 1])].asof == all[static_cast<size_t>(order[i])].asof ? position + 1 : 1;
    const int64_t k = order[i] - offset;
    if (k >= 0 && k < static_cast<int64_t>(rows.size())) rows[static_cast<size_t>(k)].rank = position;
  }
}

int64_t drop_below_confidence(std::vector<Prediction>& rows, double min_confidence) {
  const auto before = static_cast<int64_t>(rows.size());
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [&](const Prediction& p) { return p.confidence < min_confidence; }),
             rows.end());
  return before - static_cast<int64_t>(rows.size());
}

}  // namespace tickstream
