// `tickstream inspect`: summary of a store as JSON (docs/outputs.md) or text.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tickstream {

// Reads the store serially. Keys: tickers, bars, frequency, first_time, last_time,
// missing_fraction, missing_in_span_fraction, tickers_with_gaps, largest_gap, oracle_ic (null
// unless synthetic), per_ticker ({ticker, bars, missing_bars, largest_gap, first_time,
// last_time}: missing bars and the longest run of them inside the ticker's listing span),
// file_bytes, chunks, fletcher32, has_adj_close, rejected.
nlohmann::json inspect_store(const std::string& path);

// Reads every chunk of every checksummed dataset (Fletcher32). Keys: path, checksummed_datasets,
// unchecksummed_datasets (names), corrupt_chunks ([{dataset, chunk origin}]).
nlohmann::json verify_store(const std::string& path);

// Human-readable rendering of inspect_store's JSON (per-ticker list abbreviated).
std::string format_inspect(const nlohmann::json& j);

}  // namespace tickstream
