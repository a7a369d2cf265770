// `tickstream ingest`: CSV / compressed CSV / Parquet inputs -> store, parsed in parallel (pieces
// of big files on several ranks, see ingest_plan.hpp) and written collectively.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/communicator.hpp"
#include "store/bars.hpp"
#include "store/column_map.hpp"
#include "store/csv_reader.hpp"
#include "store/ingest_plan.hpp"
#include "store/store_format.hpp"

namespace tickstream {

struct IngestOptions {
  std::vector<std::string> inputs;  // files or directories (ingest_plan.hpp: is_input_name)
  std::string store;                // output path; written to a temp name, renamed on success
  OnError on_error = OnError::Fail;
  int64_t chunk_tickers = store::kDefaultChunkTickers;
  int64_t chunk_bars = store::kDefaultChunkBars;
  ColumnMap columns{};  // --layout / --columns
  int64_t min_piece_bytes = kMinPieceBytes;  // smallest piece of a split file (ingest_plan.hpp); tests go lower
  int threads = 1;  // pieces parsed at once on this rank (the CLI: this rank's share of the node's cores)
};

struct IngestReport {
  int ranks = 1;
  int64_t files = 0, bytes = 0, rows_read = 0, rows_stored = 0, tickers = 0, bars = 0;
  std::array<int64_t, kRejectReasonCount> rejected{};
  std::string frequency;
  double parse_s = 0, exchange_s = 0, write_s = 0, total_s = 0;  // max over ranks
  nlohmann::json to_json() const;
};

// Collective over `comm`. Throws InputError (every rank) on bad input under OnError::Fail.
IngestReport run_ingest(comm::Communicator& comm, const IngestOptions& options);

// "1d", "1min", "5min", "1h", ... inferred from the bar times.
std::string infer_frequency(const std::vector<int64_t>& time);

// Per-ticker bars owned by this rank after the exchange; see ingest_exchange.cpp.
struct OwnedTickers {
  std::vector<std::string> all_tickers;  // sorted union over ranks
  int64_t row_begin = 0;                 // first owned row
  std::vector<TickerBars> owned;         // rows [row_begin, row_begin + owned.size())
};

// Collective: agrees on the global ticker list, balances contiguous rows by bar count, moves
// bars to their owner and checks duplicates across files. Owned blocks are whole groups of
// `chunk_tickers` rows, so no store chunk is shared by two ranks. `files` names inputs in messages.
OwnedTickers exchange_to_owners(comm::Communicator& comm, std::vector<TickerBars> local,
                                const std::vector<InputFile>& files, int64_t chunk_tickers, OnError policy,
                                std::vector<Rejection>& rejections);

}  // namespace tickstream
