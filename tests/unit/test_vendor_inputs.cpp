// Vendor inputs of ingest: column mapping and layouts, gzip / zstd CSV read streaming (also
// damaged), and pieces of a big CSV parsed apart giving exactly what the whole file gives.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/byte_source.hpp"
#include "store/column_map.hpp"
#include "store/csv_reader.hpp"
#include "store/ingest_plan.hpp"

namespace tickstream {
namespace {

int64_t ts(const char* text) { return parse_timestamp(text).value(); }

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

// A long table of `tickers` x `days` rows, interleaved by date, closes k + day / 100.
std::string long_table(int tickers, int days) {
  std::string text = "date,ticker,open,high,low,close,volume\n";
  for (int d = 0; d < days; ++d)
    for (int k = 0; k < tickers; ++k) {
      const double c = 10 + k + d / 100.0;
      text += format_timestamp(ts("2020-01-01") + d * 86400) + ",T" + std::to_string(k) + "," + std::to_string(c) +
              "," + std::to_string(c + 1) + "," + std::to_string(c - 1) + "," + std::to_string(c) + ",100\n";
    }
  return text;
}

void expect_same_bars(const ParsedFile& a, const ParsedFile& b) {
  ASSERT_EQ(a.tickers.size(), b.tickers.size());
  for (size_t i = 0; i < a.tickers.size(); ++i) {
    ASSERT_EQ(a.tickers[i].ticker, b.tickers[i].ticker);
    ASSERT_EQ(a.tickers[i].bars.size(), b.tickers[i].bars.size()) << a.tickers[i].ticker;
    for (size_t j = 0; j < a.tickers[i].bars.size(); ++j) {
      const Bar &x = a.tickers[i].bars[j], &y = b.tickers[i].bars[j];
      EXPECT_EQ(x.time, y.time);
      EXPECT_EQ(x.close, y.close);
      EXPECT_EQ(x.line, y.line);
    }
  }
}

// ------------------------------------------------------------------ column map

TEST(ColumnMap, SpecOverridesAliasesAndRejectsNonsense) {
  ColumnMap m = layout_columns("auto");
  apply_column_spec(m, " date = Trade Date , close=Last,date_format=yyyymmdd");
  const ColumnIndex i = resolve_columns({"Ticker", "Trade Date", "Open", "High", "Low", "Last", "Close", "Volume"}, m);
  EXPECT_EQ(i[Column::Date], 1);
  EXPECT_EQ(i[Column::Close], 5);  // the named column, not the "Close" alias
  EXPECT_EQ(i[Column::Ticker], 0);
  EXPECT_FALSE(i.missing);
  EXPECT_EQ(m.date_format, DateFormat::Yyyymmdd);
  EXPECT_THROW(apply_column_spec(m, "price=Close"), InputError);
  EXPECT_THROW(apply_column_spec(m, "close"), InputError);
  EXPECT_THROW(apply_column_spec(m, "close="), InputError);
  EXPECT_THROW(apply_column_spec(m, "date_format=dd/mm/yyyy"), InputError);
  EXPECT_THROW(layout_columns("bloomberg"), InputError);
}

TEST(ColumnMap, MissingRequiredColumnIsNamed) {
  const ColumnIndex i = resolve_columns({"Date", "Open", "High", "Low", "Volume"}, ColumnMap{});
  ASSERT_TRUE(i.missing);
  EXPECT_EQ(*i.missing, Column::Close);
}

TEST(ColumnMap, DateAndTimeColumnsCombine) {
  const ColumnIndex i = resolve_columns({"Date", "Time", "Open", "High", "Low", "Close", "Volume"}, ColumnMap{});
  EXPECT_EQ(i[Column::Date], 0);
  EXPECT_EQ(i[Column::Time], 1);
  EXPECT_EQ(parse_bar_time("2024-01-02", "09:31", ColumnMap{}), ts("2024-01-02T09:31:00Z"));
  EXPECT_EQ(parse_bar_time("2024-01-02", "093100", ColumnMap{}), ts("2024-01-02T09:31:00Z"));
  EXPECT_FALSE(parse_bar_time("2024-01-02", "25:00", ColumnMap{}));
  const ColumnIndex alone = resolve_columns({"time", "open", "high", "low", "close", "volume"}, ColumnMap{});
  EXPECT_EQ(alone[Column::Date], 0);  // "time" alone is the timestamp column
  EXPECT_EQ(alone[Column::Time], -1);
}

TEST(ColumnMap, DateEncodings) {
  ColumnMap m;
  m.date_format = DateFormat::Yyyymmdd;
  EXPECT_EQ(parse_bar_time("20240229", std::nullopt, m), ts("2024-02-29"));
  EXPECT_FALSE(parse_bar_time("20230229", std::nullopt, m));
  EXPECT_FALSE(parse_bar_time("2024-02-29", std::nullopt, m));
  m.date_format = DateFormat::EpochMillis;
  EXPECT_EQ(parse_bar_time("1704205800000", std::nullopt, m), ts("2024-01-02T14:30:00Z"));
  EXPECT_EQ(epoch_to_seconds(-1, DateFormat::EpochMillis, m), -1);  // floored
  EXPECT_FALSE(epoch_to_seconds(INT64_MAX, DateFormat::EpochSeconds, m));
}

TEST(ColumnMap, PolygonSessionDatesAtNewYorkMidnight) {
  const ColumnMap m = layout_columns("polygon-flat");
  // 2024-01-02 05:00 UTC (EST) and 2024-07-01 04:00 UTC (EDT) are session dates; 14:30 UTC is not.
  EXPECT_EQ(parse_bar_time("1704171600000000000", std::nullopt, m), ts("2024-01-02"));
  EXPECT_EQ(parse_bar_time("1719806400000000000", std::nullopt, m), ts("2024-07-01"));
  EXPECT_EQ(parse_bar_time("1704205800000000000", std::nullopt, m), ts("2024-01-02T14:30:00Z"));
}

TEST(ColumnMap, StooqLayoutReadsItsBulkFiles) {
  const std::string text =
      "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
      "AAPL.US,D,20240103,000000,184.22,185.88,183.43,184.25,58414460,0\n"
      "AAPL.US,D,20240102,000000,187.15,188.44,183.885,185.64,82488700,0\n";
  const ParsedFile f = parse_csv_text(text, "aapl.us.txt", 0, OnError::Fail, layout_columns("stooq"));
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "AAPL.US");
  ASSERT_EQ(f.tickers[0].bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[0].time, ts("2024-01-02"));
  EXPECT_EQ(f.tickers[0].bars[1].close, 184.25);
}

TEST(ColumnMap, MappedColumnMissingNamesTheMappedHeader) {
  ColumnMap m;
  apply_column_spec(m, "close=Last");
  try {
    parse_csv_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,1,1,5\n", "x.csv", 0, OnError::Fail, m);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "x.csv:1: column 'Last': missing_column: 'no such column in the header'");
  }
}

// ------------------------------------------------------------------ compressed CSV

TEST(CompressedCsv, GzipAndZstdParseLikeThePlainFile) {
  const std::string text = long_table(7, 300);  // ~80 KB, several decoder blocks
  const ParsedFile plain = parse_csv_text(text, "t.csv", 2, OnError::Fail);
  for (const auto& [name, bytes] : {std::pair{"t.csv.gz", gzip(text)}, std::pair{"t.csv.zst", zstd(text)}}) {
    const std::string path = temp_path(name);
    write_bytes(path, bytes);
    const ParsedFile f = parse_csv_file(path, 2, OnError::Fail);
    EXPECT_EQ(f.rows_read, 7 * 300) << name;
    expect_same_bars(plain, f);
    std::remove(path.c_str());
  }
}

TEST(CompressedCsv, PerTickerFileNamesItsTickerWithoutTheSuffixes) {
  const std::string path = temp_path("BRK.B.csv.zst");
  write_bytes(path, zstd("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,1,1.5,10\n"));
  const ParsedFile f = parse_csv_file(path, 0, OnError::Fail);
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "BRK.B");
  EXPECT_EQ(ticker_of_file("/data/AAPL.csv.gz"), "AAPL");
  EXPECT_EQ(ticker_of_file("AAPL.parquet"), "AAPL");
  std::remove(path.c_str());
}

TEST(CompressedCsv, ConcatenatedGzipMembersAndZstdFrames) {
  const std::string a = "date,ticker,open,high,low,close,volume\n2020-01-02,A,1,2,1,1.5,1\n";
  const std::string b = "2020-01-03,A,1,2,1,1.75,1\n";
  for (const auto& [name, bytes] : {std::pair{"m.csv.gz", gzip(a) + gzip(b)}, std::pair{"m.csv.zst", zstd(a) + zstd(b)}}) {
    const std::string path = temp_path(name);
    write_bytes(path, bytes);
    const ParsedFile f = parse_csv_file(path, 0, OnError::Fail);
    ASSERT_EQ(f.tickers.size(), 1u) << name;
    ASSERT_EQ(f.tickers[0].bars.size(), 2u) << name;
    EXPECT_EQ(f.tickers[0].bars[1].close, 1.75);
    EXPECT_EQ(f.tickers[0].bars[1].line, 3);
    std::remove(path.c_str());
  }
}

TEST(CompressedCsv, DamagedStreamsRejectTheWholeFile) {
  const std::string text = long_table(3, 200);
  std::string flipped = gzip(text);
  flipped[flipped.size() / 2] ^= 0x55;
  const std::string truncated_gz = gzip(text).substr(0, 300), truncated_zst = zstd(text).substr(0, 300);
  for (const auto& [name, bytes] : {std::pair{"bad.csv.gz", flipped}, std::pair{"cut.csv.gz", truncated_gz},
                                    std::pair{"cut.csv.zst", truncated_zst}, std::pair{"junk.csv.zst", std::string("junk!")}}) {
    const std::string path = temp_path(name);
    write_bytes(path, bytes);
    const ParsedFile f = parse_csv_file(path, 0, OnError::Skip);
    EXPECT_TRUE(f.tickers.empty()) << name << ": nothing of a damaged file is kept";
    ASSERT_EQ(f.rejections.size(), 1u) << name;
    EXPECT_EQ(f.rejections[0].reason, RejectReason::CorruptFile) << name;
    try {
      parse_csv_file(path, 0, OnError::Fail);
      ADD_FAILURE() << name << ": no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": corrupt_file: '", 0), 0u) << e.what();
    }
    std::remove(path.c_str());
  }
}

// ------------------------------------------------------------------ pieces of a big CSV

// Parses `path` as `count` pieces, renumbers lines as ingest does, and merges per ticker.
ParsedFile parse_in_pieces(const std::string& path, int64_t size, int count, OnError policy) {
  ParsedFile all;
  int64_t offset = 0;
  std::map<std::string, std::vector<Bar>> bars;
  for (int k = 0; k < count; ++k) {
    ParsedFile p = parse_csv_piece(path, 0, policy, ColumnMap{}, size * k / count, size * (k + 1) / count);
    for (auto& t : p.tickers)
      for (Bar b : t.bars) b.line += static_cast<int32_t>(offset), bars[t.ticker].push_back(b);
    for (Rejection r : p.rejections) r.line += offset, all.rejections.push_back(r);
    all.rows_read += p.rows_read;
    offset += p.lines;
  }
  all.lines = offset;
  for (auto& [name, b] : bars) {
    std::sort(b.begin(), b.end(), [](const Bar& x, const Bar& y) { return x.time < y.time; });
    all.tickers.push_back({name, b});
  }
  return all;
}

TEST(CsvPieces, AnySplitGivesTheWholeFile) {
  std::string text = long_table(5, 40);
  text.insert(text.find('\n', 2000) + 1, "\n  \r\n");  // blank lines inside a piece count as lines
  const std::string path = temp_path("big.csv");
  write_bytes(path, "\xEF\xBB\xBF" + text);
  const int64_t size = static_cast<int64_t>(text.size()) + 3;
  const ParsedFile whole = parse_csv_file(path, 0, OnError::Fail);
  for (const int count : {1, 2, 3, 7, 64, 5000}) {  // 5000: most pieces hold no line start
    const ParsedFile split = parse_in_pieces(path, size, count, OnError::Fail);
    EXPECT_EQ(split.rows_read, 200) << count;
    EXPECT_EQ(split.lines, whole.lines) << count;
    EXPECT_TRUE(split.rejections.empty()) << count;
    expect_same_bars(whole, split);
  }
  std::remove(path.c_str());
}

TEST(CsvPieces, HeaderAfterBlankLinesAndFilesWithoutHeader) {
  const std::string text = "\n\n  \n" + long_table(2, 5);
  const std::string path = temp_path("late.csv");
  write_bytes(path, text);
  const int64_t size = static_cast<int64_t>(text.size());
  const ParsedFile whole = parse_csv_file(path, 0, OnError::Fail);
  for (const int count : {2, 3, 40}) expect_same_bars(whole, parse_in_pieces(path, size, count, OnError::Fail));
  write_bytes(path, "\n \n\n\n");
  const ParsedFile none = parse_in_pieces(path, 7, 3, OnError::Skip);
  ASSERT_EQ(none.rejections.size(), 1u);  // once, from the first piece
  EXPECT_EQ(none.rejections[0].reason, RejectReason::EmptyFile);
  std::remove(path.c_str());
}

TEST(CsvPieces, FirstProblemIsReturnedWithItsLineNotThrown) {
  std::string text = long_table(4, 30);
  const size_t at = text.find("\n2020-01-21,T2,");
  text.replace(text.find(",100\n", at), 5, ",-5\n");  // negative volume on line 1 + 20*4 + 3
  const std::string path = temp_path("bad.csv");
  write_bytes(path, text);
  const ParsedFile split = parse_in_pieces(path, static_cast<int64_t>(text.size()), 3, OnError::Fail);
  ASSERT_EQ(split.rejections.size(), 1u);
  EXPECT_EQ(split.rejections[0].line, 84);
  EXPECT_EQ(split.rejections[0].reason, RejectReason::NegativeVolume);
  const ParsedFile skipped = parse_in_pieces(path, static_cast<int64_t>(text.size()), 3, OnError::Skip);
  ASSERT_EQ(skipped.rejections.size(), 1u);
  EXPECT_EQ(skipped.rejections[0].line, 84);
  EXPECT_EQ(skipped.rows_read, 120);
  std::remove(path.c_str());
}

TEST(IngestPlan, SplitsOnlyBigSplittableFilesAndCoversEveryByte) {
  const std::vector<InputFile> files{{"a.csv", 100}, {"big.csv", 10000}, {"big.csv.gz", 10000}, {"b.csv", 50}};
  EXPECT_EQ(plan_pieces(files, 1, 64).size(), 4u);  // one rank: no splitting
  const std::vector<InputPiece> p = plan_pieces(files, 2, 64);
  int64_t covered = 0;
  int big_pieces = 0;
  for (const InputPiece& x : p) {
    if (x.file != 1) {
      EXPECT_TRUE(x.whole);
      continue;
    }
    ++big_pieces;
    EXPECT_EQ(x.begin, covered);
    covered = x.end;
  }
  EXPECT_EQ(covered, 10000);
  EXPECT_EQ(big_pieces, 4);  // 20150 bytes / (4 x 2 ranks) = 2518 per piece
  EXPECT_TRUE(is_input_name("x.csv.zst"));
  EXPECT_TRUE(is_input_name("x.parquet"));
  EXPECT_FALSE(is_input_name("x.json"));
}

}  // namespace
}  // namespace tickstream
