// libFuzzer target: the Parquet reader (src/store/parquet_reader.cpp) on arbitrary bytes as a file.
// Byte 0 picks the column map (aliases, polygon-flat, stooq, epoch-ms dates) and a row-group range
// (the second group, when the footer lists two or more);
// the rest is the file. Seeds: tests/fixtures/parquet (valid files of every supported type). The
// file is parsed under --on-error skip and fail: bad input must raise InputError, skip must keep
// the readers' promises (parsed_checks.hpp), and fail must raise exactly skip's first rejection.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz_support.hpp"
#include "parsed_checks.hpp"
#include "store/parquet_reader.hpp"

namespace tickstream::fuzz {
namespace {

ColumnMap column_map(uint8_t b) {
  switch (b % 4) {
    case 1: return layout_columns("polygon-flat");
    case 2: return layout_columns("stooq");
    case 3: {
      ColumnMap m;
      apply_column_spec(m, "date_format=epoch_ms");
      return m;
    }
    default: return ColumnMap{};
  }
}

std::string write_file(std::string_view bytes) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("fuzz_parquet.{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto path = dir / "FUZZ.parquet";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path.string();
}

}  // namespace
}  // namespace tickstream::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickstream;
  using namespace tickstream::fuzz;
  Input in(data, size);
  const uint8_t options = in.byte();
  const ColumnMap map = column_map(options);
  const std::string path = write_file(in.rest());
  // A range is ingest's plan, from the footer's row groups: the second group when there is one.
  std::vector<int64_t> groups;
  accepted("row groups", [&] { groups = parquet_row_group_rows(path); });
  const RowGroupRange range = (options & 4) && groups.size() >= 2 ? RowGroupRange{1, 1} : RowGroupRange{};

  ParsedFile skipped;
  const bool read = accepted("parse (skip)", [&] { skipped = parse_parquet_file(path, 0, OnError::Skip, map, range); });
  FUZZ_REQUIRE(read, "--on-error skip raises no InputError on a file it can open");
  check_parsed(skipped, range.count != -1);

  const std::string error = input_error_of("parse (fail)", [&] { parse_parquet_file(path, 0, OnError::Fail, map, range); });
  if (skipped.rejections.empty()) FUZZ_REQUIRE(error.empty(), "fail raises only what skip rejects: {}", error);
  else FUZZ_REQUIRE(error == skipped.rejections.front().message(), "fail raises the first rejection: '{}' vs '{}'",
                    error, skipped.rejections.front().message());
  return 0;
}
