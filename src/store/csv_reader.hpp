// Reader for OHLCV CSV files: yfinance-style per-ticker files and long-format multi-ticker files,
// plain or compressed (.gz, .zst), whole or a byte range of a big file (a piece, see ingest_plan).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/bars.hpp"
#include "store/column_map.hpp"

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
  int64_t lines = 0;                  // physical lines read (a piece: its lines, numbered from 1)
};

// Parses one file, decompressing it on the fly when its name ends in .gz or .zst. `file_index` is
// stored in every Bar. Under OnError::Fail the first problem throws InputError with
// Rejection::message(); under OnError::Skip bad rows (and unusable files: a corrupt compressed
// stream drops the whole file) are recorded in `rejections` and left out.
ParsedFile parse_csv_file(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns = {});

// The same, from text already in memory (used by the tests); `path` names it in messages.
ParsedFile parse_csv_text(const std::string& text, const std::string& path, int32_t file_index, OnError policy,
                          const ColumnMap& columns = {});

// The lines of an uncompressed file that start in bytes [begin, end): a piece of a big file parsed
// by one rank (a line belongs to the piece its first byte is in). The header is read from the
// file's start. Line numbers (Bar::line, Rejection::line) count from 1 at the piece's first line
// and `lines` is the piece's line count, for the caller to renumber. Under OnError::Fail the first
// problem is not thrown but returned as the only rejection (parsing stops there), so that the
// caller can renumber it; a piece with no rows is not an empty file.
ParsedFile parse_csv_piece(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns,
                           int64_t begin, int64_t end);

}  // namespace tickstream
