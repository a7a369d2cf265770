// Reader for OHLCV Parquet files (Apache Arrow C++; cmake/Arrow.cmake): per-ticker files and long
// tables, whole or a range of row groups, validated and grouped exactly as the CSV reader does.
// A build without Arrow has the same functions; they throw InputError saying so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/column_map.hpp"
#include "store/csv_reader.hpp"

namespace tickstream {

// Row groups of a Parquet file and their row counts (metadata only): how ingest splits one big
// file over ranks. InputError (a corrupt_file message) when the file is not a readable Parquet file.
std::vector<int64_t> parquet_row_group_rows(const std::string& path);

struct RowGroupRange {
  int first = 0;
  int count = -1;  // -1: to the last
};

// Parses the row groups `range` of one Parquet file, like parse_csv_file does a CSV: the same
// ParsedFile, OnError policy, validation and rejection reasons, plus null_value, wrong_type and
// corrupt_file. Rows are numbered from 1 at the file's first row (groups before the range count),
// in Bar::line and Rejection::line (with Rejection::row set). ParsedFile::bytes is the file size.
ParsedFile parse_parquet_file(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns,
                              RowGroupRange range = {});

}  // namespace tickstream
