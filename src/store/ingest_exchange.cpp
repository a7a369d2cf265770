// Ingest redistribution: global ticker list, contiguous owner blocks, alltoallv of bars.
#include <algorithm>
#include <map>

#include "comm/collectives.hpp"
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
  const TickerTotals totals = global_tickers(comm, local);
  const std::vector<int> owner = balanced_owners_grouped(totals.rows, comm.size(), chunk_tickers);
  const int me = comm.rank();
  OwnedTickers out;
  out.all_tickers = totals.names;
  const auto [first_mine, end_mine] = owned_range(owner, me);
  out.row_begin = first_mine;
  const int64_t n_mine = end_mine - first_mine;
  out.owned.resize(static_cast<size_t>(n_mine));
  for (int64_t i = 0; i < n_mine; ++i) out.owned[i].ticker = totals.names[out.row_begin + i];

  std::vector<std::vector<WireBar>> send(static_cast<size_t>(comm.size()));
  for (auto& t : local) {
    const int64_t idx = std::lower_bound(totals.names.begin(), totals.names.end(), t.ticker) -
                        totals.names.begin();
    const int dest = owner[static_cast<size_t>(idx)];
    if (dest == me) {
      auto& bars = out.owned[static_cast<size_t>(idx - out.row_begin)].bars;
      if (bars.empty()) bars = std::move(t.bars);
      else bars.insert(bars.end(), t.bars.begin(), t.bars.end());
    } else {
      for (const Bar& b : t.bars) send[static_cast<size_t>(dest)].push_back({idx, b});
    }
    std::vector<Bar>().swap(t.bars);
  }
  for (const auto& from : comm::alltoallv(comm, send))
    for (const WireBar& w : from) out.owned[static_cast<size_t>(w.ticker - out.row_begin)].bars.push_back(w.bar);
  run_agreed(comm, [&] {
    for (auto& t : out.owned) merge_ticker(t, files, policy, rejections);
  });
  return out;
}

}  // namespace tickstream
