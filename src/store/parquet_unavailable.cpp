// The Parquet reader of a build without Apache Arrow (cmake/Arrow.cmake found none): ingest still
// lists .parquet files and fails on them with a message that says how to get a build that reads them.
#include "core/error.hpp"
#include "store/parquet_reader.hpp"

namespace tickstream {
namespace {

[[noreturn]] void unavailable(const std::string& path) {
  TS_INPUT_ERROR("{}: this tickstream was built without Parquet support (Apache Arrow not found at configure "
                 "time; docs/build.md)",
                 path);
}

}  // namespace

std::vector<int64_t> parquet_row_group_rows(const std::string& path) { unavailable(path); }

ParsedFile parse_parquet_file(const std::string& path, int32_t /*file_index*/, OnError /*policy*/,
                              const ColumnMap& /*columns*/, RowGroupRange /*range*/) {
  unavailable(path);
}

}  // namespace tickstream
