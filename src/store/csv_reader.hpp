// Reader for OHLCV CSV files: yfinance-style per-ticker files and long-format multi-ticker files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/bars.hpp"

namespace tickstream {

enum class OnError { Fail, Skip };

enum class CsvLayout {
  PerTicker,  // Date,Open,High,Low,Close[,Adj Close],Volume; ticker = file stem
  Long,       // date,ticker,open,high,low,close,volume[,adj close]
};

// Relative tolerance for open/close outside [low, high] (rounding in vendor data).
inline constexpr double kRangeTolerance = 1e-6;

struct ParsedFile {
  std::string path;
  CsvLayout layout = CsvLayout::PerTicker;
  bool has_adj_close = false;
  std::vector<TickerBars> tickers;   // sorted by ticker; each ticker's bars sorted by time
  std::vector<Rejection> rejections;  // empty under OnError::Fail (the first one is thrown)
  int64_t rows_read = 0;              // data rows seen (accepted + rejected)
  int64_t bytes = 0;
};

// Parses one file. `file_index` is stored in every Bar. Under OnError::Fail the first problem
// throws InputError with Rejection::message(); under OnError::Skip bad rows (and unusable files)
// are recorded in `rejections` and left out.
ParsedFile parse_csv_file(const std::string& path, int32_t file_index, OnError policy);

// The same, from text already in memory (used by the tests); `path` names it in messages.
ParsedFile parse_csv_text(const std::string& text, const std::string& path, int32_t file_index,
                          OnError policy);

}  // namespace tickstream
