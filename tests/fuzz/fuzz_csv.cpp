// libFuzzer target: the OHLCV CSV reader (src/store/csv_reader.cpp, csv_fields.cpp) in every dialect
// it accepts. Input: byte 0 picks the dialect options (byte order mark, CRLF line ends, the file
// name that per-ticker files take their ticker from, text or file reading), byte 1 a header
// (one of kHeaders, or none: the input then starts with its own), the rest is the file's text.
// Each input is parsed with --on-error skip and fail; bad input must raise InputError, and the
// two policies must agree (fail raises exactly the first rejection skip records). A file read from
// disk is also parsed in pieces (as ingest splits a big file over ranks; the split count from the
// dialect byte) and gzip'd: both must give exactly the bars of the whole file.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <zlib.h>

#include <map>

#include "fuzz_support.hpp"
#include "parsed_checks.hpp"
#include "store/csv_reader.hpp"

namespace tickstream::fuzz {
namespace {

// Headers of each layout and delimiter the reader detects (docs/ingest.md, "CSV formats").
constexpr std::string_view kHeaders[] = {
    "Date,Open,High,Low,Close,Adj Close,Volume\n",                     // yfinance per-ticker
    "Datetime,Open,High,Low,Close,Volume,Dividends,Stock Splits\n",    // yfinance intraday, extra columns
    "date,ticker,open,high,low,close,volume\n",                        // long
    "timestamp;symbol;open;high;low;close;adj_close;volume\n",         // long, semicolons
    "\"Date\";\"Open\";\"High\";\"Low\";\"Close\";\"Volume\"\n",       // quoted names, semicolons
    " TIME ,\tSymbol , Open,High , Low,Close,AdjClose, Volume,Open\n", // spaces, case, a repeated role
    "\"time\",\"ticker\",\"open\",\"high\",\"low\",\"close\",\"adj. close\",\"volume\",\"note, quoted\"\n",
};
constexpr size_t kHeaderCount = sizeof(kHeaders) / sizeof(kHeaders[0]);

// Per-ticker files name their ticker: plain, dotted, other extensions, a hidden file, a folder.
constexpr const char* kNames[] = {"AAPL.csv", "BRK.B.csv", "msft.TXT", ".csv", "dir/x", "a b.csv", "-.csv", "Z"};

struct Dialect {
  bool bom = false, crlf = false, from_file = false;
  std::string name;
};

Dialect read_dialect(uint8_t b) {
  Dialect d;
  d.bom = b & 1;
  d.crlf = b & 2;
  d.from_file = b & 4;
  d.name = kNames[(b >> 3) % (sizeof(kNames) / sizeof(kNames[0]))];
  return d;
}

std::string make_text(const Dialect& d, uint8_t header, std::string_view body) {
  std::string text = d.bom ? "\xEF\xBB\xBF" : "";
  if (header % (kHeaderCount + 1) < kHeaderCount) text += kHeaders[header % (kHeaderCount + 1)];
  text += body;
  if (!d.crlf) return text;
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// The file, written under its dialect's name in a folder of this process.
std::string write_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("fuzz_csv.{}", ::getpid());
  const auto path = dir / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path.string();
}

// Every bar of `f` by ticker, with the line it came from.
std::map<std::string, std::vector<std::pair<int64_t, int32_t>>> bars_of(const std::vector<ParsedFile>& parts,
                                                                        const std::vector<int64_t>& offsets) {
  std::map<std::string, std::vector<std::pair<int64_t, int32_t>>> out;
  for (size_t k = 0; k < parts.size(); ++k)
    for (const TickerBars& t : parts[k].tickers)
      for (const Bar& b : t.bars) out[t.ticker].emplace_back(b.time, static_cast<int32_t>(b.line + offsets[k]));
  for (auto& [name, v] : out) std::sort(v.begin(), v.end());
  return out;
}

// The whole file's bars, from `count` pieces renumbered as ingest does (ingest.cpp: line_offsets).
// Duplicates across pieces are ingest's merge to drop, so only files without any are compared.
void check_pieces(const std::string& path, size_t size, const ParsedFile& whole, int count) {
  if (whole.rows_read == 0) return;
  for (const Rejection& r : whole.rejections)
    if (r.reason == RejectReason::DuplicateTimestamp) return;
  std::vector<ParsedFile> parts;
  std::vector<int64_t> offsets{0};
  for (int k = 0; k < count; ++k) {
    parts.push_back(parse_csv_piece(path, 0, OnError::Skip, ColumnMap{}, static_cast<int64_t>(size) * k / count,
                                    static_cast<int64_t>(size) * (k + 1) / count));
    offsets.push_back(offsets.back() + parts.back().lines);
  }
  FUZZ_REQUIRE(offsets.back() == whole.lines, "pieces hold {} lines, the file {}", offsets.back(), whole.lines);
  FUZZ_REQUIRE(bars_of(parts, offsets) == bars_of({whole}, {0}), "{} pieces give other bars than the whole file", count);
}

std::string gzip(const std::string& text) {
  uLongf n = compressBound(static_cast<uLong>(text.size())) + 32;
  std::string out(n, '\0');
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void check_gzip(const Dialect& d, const std::string& text, const ParsedFile& whole) {
  const ParsedFile z = parse_csv_file(write_file(d.name + ".gz", gzip(text)), 0, OnError::Skip);
  FUZZ_REQUIRE(bars_of({z}, {0}) == bars_of({whole}, {0}) && z.rejections.size() == whole.rejections.size(),
               "the gzip'd file reads differently");
}

}  // namespace
}  // namespace tickstream::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tickstream;
  using namespace tickstream::fuzz;
  Input in(data, size);
  const Dialect d = read_dialect(in.byte());
  const uint8_t header = in.byte();
  const std::string text = make_text(d, header, in.rest());

  ParsedFile skipped;
  const bool read = accepted("parse (skip)", [&] {
    skipped = d.from_file ? parse_csv_file(write_file(d.name, text), 0, OnError::Skip)
                          : parse_csv_text(text, d.name, 0, OnError::Skip);
  });
  FUZZ_REQUIRE(read, "--on-error skip raises no InputError on text it can read");
  check_parsed(skipped);
  if (d.from_file) {
    check_pieces(write_file(d.name, text), text.size(), skipped, 1 + (header >> 4));
    check_gzip(d, text, skipped);
  }

  ParsedFile failed;
  const std::string error = input_error_of("parse (fail)", [&] { failed = parse_csv_text(text, d.name, 0, OnError::Fail); });
  if (skipped.rejections.empty()) {
    FUZZ_REQUIRE(error.empty(), "fail raises only what skip rejects: {}", error);
    FUZZ_REQUIRE(failed.tickers.size() == skipped.tickers.size() && failed.rows_read == skipped.rows_read,
                 "both policies read the same bars");
  } else if (!d.from_file) {  // the same name in messages
    FUZZ_REQUIRE(error == skipped.rejections.front().message(), "fail raises the first rejection: '{}' vs '{}'",
                 error, skipped.rejections.front().message());
  }
  return 0;
}
