// libFuzzer target: the OHLCV CSV reader (src/store/csv_reader.cpp, csv_fields.cpp) in every dialect
// it accepts. Input: byte 0 picks the dialect options (byte order mark, CRLF line ends, the file
// name that per-ticker files take their ticker from, text or file reading), byte 1 a header
// (one of kHeaders, or none: the input then starts with its own), the rest is the file's text.
// Each input is parsed with --on-error skip and fail; bad input must raise InputError, and the
// two policies must agree (fail raises exactly the first rejection skip records).
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "fuzz_support.hpp"
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

// What the reader promises of every file it accepts (csv_reader.hpp, docs/ingest.md "Validation").
void check_parsed(const ParsedFile& f) {
  int64_t bars = 0;
  for (size_t i = 0; i < f.tickers.size(); ++i) {
    const TickerBars& t = f.tickers[i];
    FUZZ_REQUIRE(i == 0 || f.tickers[i - 1].ticker < t.ticker, "tickers sorted and unique: '{}'", t.ticker);
    FUZZ_REQUIRE(!t.ticker.empty() || f.layout == CsvLayout::PerTicker, "an empty ticker in a long file");
    FUZZ_REQUIRE(!t.bars.empty(), "ticker '{}' without bars", t.ticker);
    for (size_t k = 0; k < t.bars.size(); ++k) {
      const Bar& b = t.bars[k];
      FUZZ_REQUIRE(k == 0 || t.bars[k - 1].time < b.time, "bars of '{}' in strict time order", t.ticker);
      FUZZ_REQUIRE(b.open > 0 && b.high > 0 && b.low > 0 && b.close > 0, "positive prices, line {}", b.line);
      FUZZ_REQUIRE(std::isfinite(b.open) && std::isfinite(b.high) && std::isfinite(b.low) &&
                       std::isfinite(b.close) && std::isfinite(b.volume),
                   "finite values, line {}", b.line);
      FUZZ_REQUIRE(b.high >= b.low && b.volume >= 0, "high >= low and volume >= 0, line {}", b.line);
      FUZZ_REQUIRE(f.has_adj_close ? b.adj_close > 0 && std::isfinite(b.adj_close) : std::isnan(b.adj_close),
                   "adj close, line {}", b.line);
    }
    bars += static_cast<int64_t>(t.bars.size());
  }
  if (f.rows_read == 0) {  // a file-level problem (no header, a bad header, no rows): one rejection
    FUZZ_REQUIRE(bars == 0 && f.rejections.size() == 1, "{} rejections of a file without rows", f.rejections.size());
    return;
  }
  const auto rejected = static_cast<int64_t>(f.rejections.size());
  FUZZ_REQUIRE(f.rows_read == bars + rejected, "every row stored or rejected once: {} rows, {} bars, {} rejected",
               f.rows_read, bars, rejected);
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
