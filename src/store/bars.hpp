// Parsed bars of one ticker and the rejection records of the CSV reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tickstream {

// Why a row (or a whole file) was rejected. Order is the order of the store attribute list.
enum class RejectReason {
  NonNumeric,
  NotFinite,
  NonPositivePrice,
  HighBelowLow,
  OpenCloseOutsideRange,
  NegativeVolume,
  DuplicateTimestamp,
  BadDate,
  MissingColumn,
  RaggedRow,
  EmptyFile,
  UnterminatedQuote,
  NullValue,    // Parquet: a null in a required column
  WrongType,    // Parquet: a column whose type cannot hold the field (e.g. text prices)
  CorruptFile,  // unreadable container: truncated Parquet, corrupt gzip / zstd stream
};
inline constexpr int kRejectReasonCount = 15;

// Stable snake_case name, used in messages and as the store attribute suffix.
std::string_view reason_name(RejectReason r);

struct Rejection {
  std::string file;
  int64_t line = 0;    // 1-based physical line (or data row, see `row`); 0 for whole-file problems
  std::string column;  // header name as written in the file, or "" for row-level problems
  RejectReason reason = RejectReason::NonNumeric;
  std::string detail;  // e.g. the offending text
  bool row = false;    // `line` counts data rows (Parquet), not text lines

  // "FILE:LINE: column 'Close': non_numeric: 'abc'", or "FILE: row N: ..." for a data row
  std::string message() const;
};

struct Bar {
  int64_t time = 0;  // seconds since epoch UTC
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  double adj_close = 0;  // NaN when the file has no Adj Close column
  int32_t file = 0;      // index of the source file in the ingest input list
  int32_t line = 0;      // 1-based line (CSV) or data row (Parquet) in that file
};

struct TickerBars {
  std::string ticker;
  std::vector<Bar> bars;  // sorted by time, unique times
};

}  // namespace tickstream
