// Ingest redistribution: global ticker list, contiguous owner blocks, alltoallv of bars.
#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "comm/collectives.hpp"
#include "core/stopwatch.hpp"
#include "core/error.hpp"
#include "core/partition.hpp"
#include "comm/agreement.hpp"
#include "store/ingest.hpp"

namespace tickstream {
namespace {

struct WireBar {
  int64_t ticker;  // index in the global sorted ticker list
  Bar bar;
};

struct TickerTotals {
  std::vector<std::string> names;  // sorted union
  std::vector<int64_t> rows;       // bars per ticker over all ranks
};

TickerTotals global_tickers(comm::Communicator& comm, const std::vector<TickerBars>& local) {
  std::vector<std::string> names;
  std::vector<int64_t> counts;
  for (const auto& t : local) names.push_back(t.ticker), counts.push_back(static_cast<int64_t>(t.bars.size()));
  const auto all_names = comm::allgather_strings(comm, names);
  const auto all_counts = comm::allgatherv(comm, counts);
  std::map<std::string, int64_t> merged;
  for (size_t i = 0; i < all_names.size(); ++i) merged[all_names[i]] += all_counts[i];
  TickerTotals out;
  for (const auto& [name, rows] : merged) out.names.push_back(name), out.rows.push_back(rows);
  return out;
}

// Sorts a ticker's bars by (time, file, line) and resolves equal times (duplicates across files).
void merge_ticker(TickerBars& t, const std::vector<InputFile>& files, OnError policy,
                  std::vector<Rejection>& rejections) {
  auto key = [](const Bar& b) { return std::tie(b.time, b.file, b.line); };
  auto less = [&](const Bar& a, const Bar& b) { return key(a) < key(b); };
  if (!std::is_sorted(t.bars.begin(), t.bars.end(), less)) std::sort(t.bars.begin(), t.bars.end(), less);
  if (std::adjacent_find(t.bars.begin(), t.bars.end(), [](const Bar& a, const Bar& b) { return a.time == b.time; }) ==
      t.bars.end())
    return;  // the common case: one file per ticker, no duplicates
  std::vector<Bar> kept;
  kept.reserve(t.bars.size());
  for (const Bar& b : t.bars) {
    if (kept.empty() || kept.back().time != b.time) {
      kept.push_back(b);
      continue;
    }
    const Bar& first = kept.back();
    Rejection r{files[static_cast<size_t>(b.file)].path, b.line, "", RejectReason::DuplicateTimestamp,
                fmt::format("ticker {} already has this timestamp at {}:{}", t.ticker,
                            files[static_cast<size_t>(first.file)].path, first.line)};
    if (policy == OnError::Fail) TS_INPUT_ERROR("{}", r.message());
    rejections.push_back(std::move(r));
  }
  t.bars = std::move(kept);
}

}  // namespace

OwnedTickers exchange_to_owners(comm::Communicator& comm, std::vector<TickerBars> local,
                                const std::vector<InputFile>& files, int64_t chunk_tickers, OnError policy,
                                std::vector<Rejection>& rejections) {
  const double t0 = monotonic_seconds();
  const TickerTotals totals = global_tickers(comm, local);
  const double t1 = monotonic_seconds();
  const std::vector<int> owner = balanced_owners_grouped(totals.rows, comm.size(), chunk_tickers);
  const int me = comm.rank();
  OwnedTickers out;
  out.all_tickers = totals.names;
  const auto [first_mine, end_mine] = owned_range(owner, me);
  out.row_begin = first_mine;
  const int64_t n_mine = end_mine - first_mine;
  out.owned.resize(static_cast<size_t>(n_mine));
  for (int64_t i = 0; i < n_mine; ++i) out.owned[i].ticker = totals.names[out.row_begin + i];

  // Bars for other owners go into one buffer, counted first (each destination's slice allocated
  // once); this rank's own runs wait aside, to be placed in rank order below.
  const auto n_ranks = static_cast<size_t>(comm.size());
  std::vector<int64_t> send_counts(n_ranks, 0), cursor(n_ranks, 0);
  std::vector<int64_t> index(local.size());
  for (size_t k = 0; k < local.size(); ++k) {
    index[k] = std::lower_bound(totals.names.begin(), totals.names.end(), local[k].ticker) - totals.names.begin();
    const int dest = owner[static_cast<size_t>(index[k])];
    if (dest != me) send_counts[static_cast<size_t>(dest)] += static_cast<int64_t>(local[k].bars.size());
  }
  for (size_t r = 1; r < n_ranks; ++r) cursor[r] = cursor[r - 1] + send_counts[r - 1];
  std::vector<WireBar> send(static_cast<size_t>(cursor.back() + send_counts.back()));
  std::vector<std::vector<Bar>> own_runs(static_cast<size_t>(n_mine));
  for (size_t k = 0; k < local.size(); ++k) {
    const int dest = owner[static_cast<size_t>(index[k])];
    if (dest == me) {
      own_runs[static_cast<size_t>(index[k] - out.row_begin)] = std::move(local[k].bars);
      continue;
    }
    int64_t& at = cursor[static_cast<size_t>(dest)];
    for (const Bar& b : local[k].bars) send[static_cast<size_t>(at++)] = {index[k], b};
    std::vector<Bar>().swap(local[k].bars);
  }
  const double t2 = monotonic_seconds();
  const auto [received, from] = comm::alltoallv_flat(comm, send, send_counts);
  send = {};
  const double t3 = monotonic_seconds();
  // Runs in rank order: ranks parse consecutive pieces of the input, so for a long table split by
  // time the concatenation is already in time order and merge_ticker has nothing to sort. A run
  // that comes first is moved, not copied (the common case: one file per ticker, one source).
  const auto append = [&](int64_t i, const Bar* begin, const Bar* end) {
    auto& bars = out.owned[static_cast<size_t>(i)].bars;
    const auto total = static_cast<size_t>(totals.rows[static_cast<size_t>(out.row_begin + i)]);
    if (bars.capacity() < total) bars.reserve(total);
    bars.insert(bars.end(), begin, end);
  };
  size_t at = 0;
  for (size_t r = 0; r < n_ranks; ++r) {
    for (int64_t i = 0; i < n_mine && static_cast<int>(r) == me; ++i) {
      auto& run = own_runs[static_cast<size_t>(i)];
      auto& bars = out.owned[static_cast<size_t>(i)].bars;
      if (bars.empty()) bars.swap(run);
      else append(i, run.data(), run.data() + run.size());
      std::vector<Bar>().swap(run);
    }
    for (const size_t end = at + static_cast<size_t>(from[r]); at < end; ++at)
      append(received[at].ticker - out.row_begin, &received[at].bar, &received[at].bar + 1);
  }
  const double t4 = monotonic_seconds();
  run_agreed(comm, [&] {
    for (auto& t : out.owned) merge_ticker(t, files, policy, rejections);
  });
  spdlog::debug("ingest exchange: tickers agreed {:.3f} s, sends built {:.3f} s, alltoallv {:.3f} s, placed {:.3f} s, "
                "merged {:.3f} s", t1 - t0, t2 - t1, t3 - t2, t4 - t3, monotonic_seconds() - t4);
  return out;
}

}  // namespace tickstream
