// `tickstream features export`: one ticker's features and labels as CSV (docs/outputs.md).
#pragma once

#include <string>

namespace tickstream {

// Columns: date, every /features names entry, every /labels names entry; one row per bar of
// the calendar; raw (un-normalized) values, empty cells where a value is undefined. Serial;
// written to a temp name and renamed.
void export_ticker_csv(const std::string& store, const std::string& ticker, const std::string& out);

}  // namespace tickstream
