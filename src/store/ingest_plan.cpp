// Input listing and the piece plan of ingest.
#include "store/ingest_plan.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "store/byte_source.hpp"
#include "store/parquet_reader.hpp"

namespace tickstream {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A file that is not readable Parquet stays one piece: its reader reports it (or skips it).
void split_row_groups(const InputFile& f, int32_t index, int64_t pieces, std::vector<InputPiece>& out) {
  std::vector<int64_t> rows;
  try {
    rows = parquet_row_group_rows(f.path);
  } catch (const InputError&) {
  }
  int64_t total = 0;
  for (const int64_t r : rows) total += r;
  const int64_t target = std::max<int64_t>(1, (total + pieces - 1) / pieces);
  int64_t in_piece = 0;
  for (size_t g = 0; g < rows.size(); ++g) {
    if (out.empty() || out.back().file != index || in_piece >= target) {
      out.push_back(InputPiece{index, rows.size() <= 1, 0, 0, static_cast<int>(g), 0, 0});
      in_piece = 0;
    }
    ++out.back().groups;
    in_piece += rows[g];
    out.back().weight += total > 0 ? f.bytes * rows[g] / total : 0;
  }
  if (rows.empty()) out.push_back(InputPiece{index, true, 0, 0, 0, -1, f.bytes});
}

}  // namespace

InputFormat input_format(const std::string& path) {
  return ends_with(path, ".parquet") || ends_with(path, ".pq") ? InputFormat::Parquet : InputFormat::Csv;
}

bool is_input_name(const std::string& name) {
  if (input_format(name) == InputFormat::Parquet) return true;
  const std::string plain = without_compression_suffix(name);
  return ends_with(plain, ".csv") || ends_with(plain, ".CSV") || ends_with(plain, ".txt");
}

std::vector<InputFile> list_inputs(const std::vector<std::string>& inputs) {
  TS_REQUIRE_INPUT(!inputs.empty(), "ingest: no --input given");
  std::vector<InputFile> out;
  for (const auto& in : inputs) {
    TS_REQUIRE_INPUT(fs::exists(in), "{}: no such file or directory", in);
    if (!fs::is_directory(in)) {
      out.push_back({in, static_cast<int64_t>(fs::file_size(in))});
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(in))
      if (e.is_regular_file() && is_input_name(e.path().filename().string())) found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    TS_REQUIRE_INPUT(!found.empty(), "{}: directory holds no input files (.csv, .txt, optionally .gz or .zst; "
                     ".parquet, .pq)", in);
    for (auto& f : found) out.push_back({f, static_cast<int64_t>(fs::file_size(f))});
  }
  return out;
}

std::vector<InputPiece> plan_pieces(const std::vector<InputFile>& files, int parsers, int64_t min_piece_bytes) {
  int64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  const int64_t piece = std::max<int64_t>({1, min_piece_bytes, total / (4 * std::max(1, parsers))});
  std::vector<InputPiece> out;
  for (size_t i = 0; i < files.size(); ++i) {
    const InputFile& f = files[i];
    const auto index = static_cast<int32_t>(i);
    const bool big = parsers > 1 && f.bytes > piece + piece / 2;
    const int64_t count = (f.bytes + piece / 2) / piece;
    if (big && input_format(f.path) == InputFormat::Parquet) {
      split_row_groups(f, index, count, out);
    } else if (big && compression_of(f.path) == Compression::None) {
      for (int64_t k = 0; k < count; ++k) {
        const int64_t begin = f.bytes * k / count, end = f.bytes * (k + 1) / count;
        out.push_back(InputPiece{index, false, begin, end, 0, -1, end - begin});
      }
    } else {
      out.push_back(InputPiece{index, true, 0, f.bytes, 0, -1, f.bytes});
    }
  }
  return out;
}

}  // namespace tickstream
