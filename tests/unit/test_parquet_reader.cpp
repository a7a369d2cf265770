// Unit tests of the Parquet reader: the fixtures of tests/fixtures/parquet (make_fixtures.py holds
// the tables the expectations below are computed from), every Parquet-specific rejection, row
// numbers under row-group ranges, batches across row groups, and the CSV reader as a peer.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/column_map.hpp"
#include "store/csv_reader.hpp"
#include "store/parquet_reader.hpp"

#if TICKSTREAM_HAVE_PARQUET
#include <arrow/builder.h>
#include <arrow/io/file.h>
#include <arrow/table.h>
#include <parquet/arrow/writer.h>
#endif

namespace tickstream {
namespace {

#define REQUIRE_PARQUET()                                                                            \
  if (!TICKSTREAM_HAVE_PARQUET)                                                                      \
  GTEST_SKIP() << "this build has no Parquet input (no Apache Arrow at configure time: cmake/Arrow.cmake)"

std::string fixture(const std::string& name) {
  return std::string(TICKSTREAM_SOURCE_DIR) + "/tests/fixtures/parquet/" + name;
}

ParsedFile skip(const std::string& name, const ColumnMap& map = {}, RowGroupRange range = {}) {
  return parse_parquet_file(fixture(name), 3, OnError::Skip, map, range);
}

// The what() of the InputError that OnError::Fail throws, or "" (and a test failure) when none.
std::string fail_message(const std::string& name, const ColumnMap& map = {}, RowGroupRange range = {}) {
  try {
    parse_parquet_file(fixture(name), 0, OnError::Fail, map, range);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for " << name;
  return "";
}

int64_t ts(const char* text) { return parse_timestamp(text).value(); }

const TickerBars& ticker(const ParsedFile& f, const std::string& name) {
  for (const TickerBars& t : f.tickers) {
    if (t.ticker == name) return t;
  }
  throw std::runtime_error("no ticker " + name);
}

struct Expected {
  int64_t line;
  std::string column;
  RejectReason reason;
  std::string detail;
};

void expect_rejections(const ParsedFile& f, const std::vector<Expected>& want) {
  ASSERT_EQ(f.rejections.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Rejection& r = f.rejections[i];
    SCOPED_TRACE(r.message());
    EXPECT_EQ(r.line, want[i].line);
    EXPECT_EQ(r.column, want[i].column);
    EXPECT_EQ(r.reason, want[i].reason);
    EXPECT_EQ(r.detail, want[i].detail);
    EXPECT_EQ(r.row, r.line > 0);
  }
}

// ------------------------------------------------------------------------------ layouts, types

TEST(ParquetReader, PerTickerTimestampNanosWithAdjClose) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("AAPL.parquet");
  EXPECT_EQ(f.layout, CsvLayout::PerTicker);
  EXPECT_TRUE(f.has_adj_close);
  EXPECT_EQ(f.rows_read, 4);
  EXPECT_EQ(f.bytes, static_cast<int64_t>(std::filesystem::file_size(fixture("AAPL.parquet"))));
  EXPECT_TRUE(f.rejections.empty());
  ASSERT_EQ(f.tickers.size(), 1u);
  const TickerBars& t = f.tickers[0];
  EXPECT_EQ(t.ticker, "AAPL");
  ASSERT_EQ(t.bars.size(), 4u);
  for (int d = 2; d <= 5; ++d) {  // rows hold days 5, 4, 3, 2: day d is row 6 - d
    const Bar& b = t.bars[static_cast<size_t>(d - 2)];
    EXPECT_EQ(b.time, ts("2024-01-02") + (d - 2) * 86400);
    EXPECT_EQ(b.open, 100.0 + d);
    EXPECT_EQ(b.high, 101.5 + d);
    EXPECT_EQ(b.low, 99.25 + d);
    EXPECT_EQ(b.close, 100.5 + d);
    EXPECT_EQ(b.adj_close, 100.25 + d);
    EXPECT_EQ(b.volume, 1000.0 * d);
    EXPECT_EQ(b.file, 3);
    EXPECT_EQ(b.line, 6 - d);
  }
}

TEST(ParquetReader, PerTickerDate32WithoutAdjClose) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("MSFT.parquet");
  EXPECT_FALSE(f.has_adj_close);
  ASSERT_EQ(f.tickers.size(), 1u);
  const std::vector<Bar>& bars = f.tickers[0].bars;
  EXPECT_EQ(f.tickers[0].ticker, "MSFT");
  ASSERT_EQ(bars.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(bars[i].time, ts("2024-01-02") + static_cast<int64_t>(i) * 86400);
    EXPECT_EQ(bars[i].open, 370.0 + static_cast<double>(i));
    EXPECT_EQ(bars[i].volume, 2.5e7 + 1e6 * static_cast<double>(i));
    EXPECT_TRUE(std::isnan(bars[i].adj_close));
    EXPECT_EQ(bars[i].line, static_cast<int32_t>(i + 1));
  }
}

// long.parquet, row r (1-based): (ticker, day) below; open 10 r, high +1.5, low -0.25, close +0.5,
// volume 100 r, at 14:30 UTC of 2024-01-<day>.
struct LongRow {
  const char* ticker;
  int day;
};
constexpr LongRow kLongRows[] = {{"MSFT", 3}, {"AAPL", 3}, {"MSFT", 2}, {"AAPL", 2}, {"GOOG", 4},
                                 {"MSFT", 4}, {"AAPL", 4}, {"GOOG", 2}, {"GOOG", 3}};

void expect_long_bar(const Bar& b, int row) {
  SCOPED_TRACE(row);
  const double open = 10.0 * row;
  const int day = kLongRows[row - 1].day;
  EXPECT_EQ(b.line, row);
  EXPECT_EQ(b.time, ts("2024-01-02T14:30:00Z") + (day - 2) * 86400);
  EXPECT_EQ(b.open, open);
  EXPECT_EQ(b.high, open + 1.5);
  EXPECT_EQ(b.low, open - 0.25);
  EXPECT_EQ(b.close, open + 0.5);
  EXPECT_EQ(b.volume, 100.0 * row);
  EXPECT_TRUE(std::isnan(b.adj_close));
}

// The rows of `f`'s bars, by ticker in name order, each by time.
std::vector<int> rows_of(const ParsedFile& f) {
  std::vector<int> rows;
  for (const TickerBars& t : f.tickers) {
    for (const Bar& b : t.bars) {
      expect_long_bar(b, b.line);
      EXPECT_EQ(t.ticker, kLongRows[b.line - 1].ticker);
      rows.push_back(b.line);
    }
  }
  return rows;
}

TEST(ParquetReader, LongTableDictionaryTickerFloat32PricesOutOfOrder) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("long.parquet");
  EXPECT_EQ(f.layout, CsvLayout::Long);
  EXPECT_FALSE(f.has_adj_close);
  EXPECT_EQ(f.rows_read, 9);
  EXPECT_TRUE(f.rejections.empty());
  ASSERT_EQ(f.tickers.size(), 3u);
  EXPECT_EQ(f.tickers[0].ticker, "AAPL");
  EXPECT_EQ(f.tickers[1].ticker, "GOOG");
  EXPECT_EQ(f.tickers[2].ticker, "MSFT");
  // AAPL days 2, 3, 4 = rows 4, 2, 7; GOOG = rows 8, 9, 5; MSFT = rows 3, 1, 6.
  EXPECT_EQ(rows_of(f), (std::vector<int>{4, 2, 7, 8, 9, 5, 3, 1, 6}));
}

TEST(ParquetReader, RowGroupRowsFromMetadata) {
  REQUIRE_PARQUET();
  EXPECT_EQ(parquet_row_group_rows(fixture("long.parquet")), (std::vector<int64_t>{3, 3, 3}));
  EXPECT_EQ(parquet_row_group_rows(fixture("bad_rows.parquet")), (std::vector<int64_t>{5, 5, 2}));
  EXPECT_EQ(parquet_row_group_rows(fixture("AAPL.parquet")), (std::vector<int64_t>{4}));
}

TEST(ParquetReader, RangeOfRowGroupsKeepsFileRowNumbers) {
  REQUIRE_PARQUET();
  const ParsedFile middle = skip("long.parquet", {}, {1, 1});
  EXPECT_EQ(middle.rows_read, 3);
  EXPECT_EQ(rows_of(middle), (std::vector<int>{4, 5, 6}));  // AAPL row 4, GOOG row 5, MSFT row 6
  const ParsedFile tail = skip("long.parquet", {}, {2, -1});
  EXPECT_EQ(rows_of(tail), (std::vector<int>{7, 8, 9}));
  const ParsedFile first_two = skip("long.parquet", {}, {0, 2});
  EXPECT_EQ(rows_of(first_two), (std::vector<int>{4, 2, 5, 3, 1, 6}));
  const ParsedFile none = skip("long.parquet", {}, {3, 0});  // an empty range is not an empty file
  EXPECT_EQ(none.rows_read, 0);
  EXPECT_TRUE(none.tickers.empty());
  EXPECT_TRUE(none.rejections.empty());
  EXPECT_THROW(skip("long.parquet", {}, {2, 2}), InternalError);
}

TEST(ParquetReader, PolygonFlatFileSessionDates) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("polygon.parquet", layout_columns("polygon-flat"));
  EXPECT_TRUE(f.rejections.empty());
  EXPECT_EQ(f.layout, CsvLayout::Long);
  ASSERT_EQ(f.tickers.size(), 2u);
  const std::vector<Bar>& aapl = ticker(f, "AAPL").bars;
  ASSERT_EQ(aapl.size(), 2u);
  EXPECT_EQ(aapl[0].time, ts("2024-01-02"));  // 05:00 UTC = 00:00 New York (EST)
  EXPECT_EQ(aapl[1].time, ts("2024-07-01"));  // 04:00 UTC = 00:00 New York (EDT)
  EXPECT_EQ(aapl[0].open, 187.15);
  EXPECT_EQ(aapl[0].high, 188.44);
  EXPECT_EQ(aapl[0].low, 183.89);
  EXPECT_EQ(aapl[0].close, 185.64);
  EXPECT_EQ(aapl[0].volume, 82488700.0);
  EXPECT_EQ(aapl[1].line, 2);
  const std::vector<Bar>& msft = ticker(f, "MSFT").bars;
  ASSERT_EQ(msft.size(), 1u);
  EXPECT_EQ(msft[0].time, ts("2024-01-02"));
  EXPECT_EQ(msft[0].line, 3);
}

TEST(ParquetReader, NewYorkZoneMidnightsAreSessionDates) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("SPY.parquet");
  ASSERT_TRUE(f.rejections.empty());
  const std::vector<Bar>& spy = ticker(f, "SPY").bars;
  ASSERT_EQ(spy.size(), 3u);
  EXPECT_EQ(spy[0].time, ts("2024-01-02"));            // 00:00 EST
  EXPECT_EQ(spy[1].time, ts("2024-07-01"));            // 00:00 EDT
  EXPECT_EQ(spy[2].time, ts("2024-07-02T14:30:00Z"));  // 10:30 EDT stays an instant
}

TEST(ParquetReader, EpochIntegerDateWithoutSessionRule) {
  REQUIRE_PARQUET();
  ColumnMap map;
  apply_column_spec(map, "date=window_start,date_format=epoch_ns");
  const ParsedFile f = skip("polygon.parquet", map);
  EXPECT_EQ(ticker(f, "AAPL").bars[0].time, ts("2024-01-02T05:00:00Z"));
  EXPECT_EQ(ticker(f, "AAPL").bars[1].time, ts("2024-07-01T04:00:00Z"));
}

TEST(ParquetReader, StooqIntegerDateAndTimeDecimalCloseUnsignedVolume) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("stooq.parquet", layout_columns("stooq"));
  expect_rejections(f, {{3, "<TIME>", RejectReason::BadDate, "250000"}});
  const std::vector<Bar>& bars = ticker(f, "AAPL.US").bars;
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].time, ts("2024-01-02T09:30:00Z"));
  EXPECT_EQ(bars[1].time, ts("2024-01-02T09:35:00Z"));
  EXPECT_EQ(bars[0].close, 187.25);
  EXPECT_EQ(bars[1].close, 187.75);
  EXPECT_EQ(bars[0].volume, 1200.0);
}

// Parquet has no date64: Arrow writes days (DATE) and reads them back as date32.
TEST(ParquetReader, DatesWrittenAsDate64) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("dup_then_null.parquet");
  ASSERT_EQ(f.tickers.size(), 1u);
  ASSERT_EQ(f.tickers[0].bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[0].time, ts("2024-01-02"));
  EXPECT_EQ(f.tickers[0].bars[1].time, ts("2024-01-04"));
}

// ------------------------------------------------------------------------- file-level problems

TEST(ParquetReader, MissingColumnIsAFileProblem) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("polygon.parquet");  // no date alias: window_start needs --layout polygon-flat
  expect_rejections(f, {{0, "Date", RejectReason::MissingColumn, "no such column in the schema"}});
  EXPECT_TRUE(f.tickers.empty());
  EXPECT_EQ(fail_message("polygon.parquet"),
            fixture("polygon.parquet") + ": column 'Date': missing_column: 'no such column in the schema'");
}

TEST(ParquetReader, WrongTypeIsAFileProblem) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("wrong_type.parquet");
  expect_rejections(f, {{0, "Close", RejectReason::WrongType, "string"}});
  EXPECT_TRUE(f.tickers.empty());
  EXPECT_EQ(f.rows_read, 0);
  EXPECT_EQ(fail_message("wrong_type.parquet"),
            fixture("wrong_type.parquet") + ": column 'Close': wrong_type: 'string'");
}

TEST(ParquetReader, IntegerDateNeedsAnEpochFormat) {
  REQUIRE_PARQUET();
  ColumnMap map;
  apply_column_spec(map, "date=window_start");
  const ParsedFile f = skip("polygon.parquet", map);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::WrongType);
  EXPECT_EQ(f.rejections[0].column, "window_start");
  EXPECT_EQ(f.rejections[0].detail.rfind("int64 (", 0), 0u) << f.rejections[0].detail;
}

TEST(ParquetReader, TruncatedOrNonParquetFileIsCorrupt) {
  REQUIRE_PARQUET();
  for (const char* name : {"truncated.parquet", "compare.csv"}) {
    SCOPED_TRACE(name);
    const ParsedFile f = skip(name);
    ASSERT_EQ(f.rejections.size(), 1u);
    const Rejection& r = f.rejections[0];
    EXPECT_EQ(r.reason, RejectReason::CorruptFile);
    EXPECT_EQ(r.line, 0);
    EXPECT_TRUE(r.column.empty());
    EXPECT_FALSE(r.detail.empty());
    EXPECT_EQ(r.detail.find('\n'), std::string::npos);
    EXPECT_TRUE(f.tickers.empty());
    EXPECT_EQ(f.bytes, static_cast<int64_t>(std::filesystem::file_size(fixture(name))));
    EXPECT_EQ(fail_message(name), r.message());
    EXPECT_EQ(r.message().rfind(fixture(name) + ": corrupt_file: '", 0), 0u) << r.message();
    try {
      parquet_row_group_rows(fixture(name));
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), r.message());
    }
  }
}

TEST(ParquetReader, FileWithoutRowsIsEmpty) {
  REQUIRE_PARQUET();
  expect_rejections(skip("empty.parquet"), {{0, "", RejectReason::EmptyFile, "no data rows"}});
  EXPECT_EQ(fail_message("empty.parquet"), fixture("empty.parquet") + ": empty_file: 'no data rows'");
}

TEST(ParquetReader, UnopenableFileIsAnInputError) {
  REQUIRE_PARQUET();
  try {
    skip("no_such_file.parquet");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), fixture("no_such_file.parquet") + ": cannot open: No such file or directory");
  }
}

// ------------------------------------------------------------------------------ row problems

TEST(ParquetReader, NullValueIsARowProblem) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("null_close.parquet");
  expect_rejections(f, {{3, "Close", RejectReason::NullValue, ""}});
  EXPECT_EQ(f.rows_read, 4);
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "null_close");
  EXPECT_EQ(f.tickers[0].bars.size(), 3u);
  EXPECT_EQ(fail_message("null_close.parquet"), fixture("null_close.parquet") + ": row 3: column 'Close': null_value");
}

TEST(ParquetReader, EarlierDuplicateComesFirstUnderFail) {
  REQUIRE_PARQUET();
  EXPECT_EQ(fail_message("dup_then_null.parquet"),
            fixture("dup_then_null.parquet") +
                ": row 2: column 'Date': duplicate_timestamp: '2024-01-02 already on row 1'");
  expect_rejections(skip("dup_then_null.parquet"),
                    {{2, "Date", RejectReason::DuplicateTimestamp, "2024-01-02 already on row 1"},
                     {3, "Open", RejectReason::NullValue, ""}});
}

TEST(ParquetReader, EveryRowReasonUnderSkip) {
  REQUIRE_PARQUET();
  const ParsedFile f = skip("bad_rows.parquet");
  EXPECT_EQ(f.rows_read, 12);
  expect_rejections(f, {{2, "date", RejectReason::BadDate, "01/03/2024"},
                        {3, "open", RejectReason::NotFinite, "nan"},
                        {4, "symbol", RejectReason::MissingColumn, ""},
                        {5, "symbol", RejectReason::NullValue, ""},
                        {6, "high", RejectReason::HighBelowLow, "high 9 < low 11"},
                        {7, "date", RejectReason::DuplicateTimestamp, "2024-01-02 already on row 1"},
                        {8, "open", RejectReason::OpenCloseOutsideRange, "12 outside low 9 .. high 11"},
                        {9, "volume", RejectReason::NegativeVolume, "-5"},
                        {11, "close", RejectReason::NonPositivePrice, "0"},
                        {12, "high", RejectReason::NotFinite, "inf"}});
  EXPECT_EQ(f.rejections[5].message(),
            fixture("bad_rows.parquet") + ": row 7: column 'date': duplicate_timestamp: '2024-01-02 already on row 1'");
  ASSERT_EQ(f.tickers.size(), 2u);
  EXPECT_EQ(ticker(f, "AAA").bars.size(), 1u);
  EXPECT_EQ(ticker(f, "AAA").bars[0].line, 1);
  EXPECT_EQ(ticker(f, "BBB").bars[0].line, 10);
  EXPECT_EQ(ticker(f, "BBB").bars[0].time, ts("2024-01-03"));
  EXPECT_EQ(fail_message("bad_rows.parquet"),
            fixture("bad_rows.parquet") + ": row 2: column 'date': bad_date: '01/03/2024'");
}

TEST(ParquetReader, RowProblemsOfARangeNameFileRows) {
  REQUIRE_PARQUET();
  // Group 1 holds rows 6-10: row 7's duplicate is of row 1, outside the range, so it is kept.
  const ParsedFile f = skip("bad_rows.parquet", {}, {1, 1});
  EXPECT_EQ(f.rows_read, 5);
  expect_rejections(f, {{6, "high", RejectReason::HighBelowLow, "high 9 < low 11"},
                        {8, "open", RejectReason::OpenCloseOutsideRange, "12 outside low 9 .. high 11"},
                        {9, "volume", RejectReason::NegativeVolume, "-5"}});
  EXPECT_EQ(ticker(f, "AAA").bars[0].line, 7);
  EXPECT_EQ(ticker(f, "BBB").bars[0].line, 10);
  EXPECT_EQ(fail_message("bad_rows.parquet", {}, {1, 1}),
            fixture("bad_rows.parquet") + ": row 6: column 'high': high_below_low: 'high 9 < low 11'");
  EXPECT_EQ(fail_message("bad_rows.parquet", {}, {2, 1}),
            fixture("bad_rows.parquet") + ": row 11: column 'close': non_positive_price: '0'");
}

// ----------------------------------------------------------------------------- the CSV as peer

TEST(ParquetReader, SameTableAsCsvParsesToTheSameBars) {
  REQUIRE_PARQUET();
  const ParsedFile csv = parse_csv_file(fixture("compare.csv"), 3, OnError::Skip);
  const ParsedFile pq = skip("compare.parquet");
  EXPECT_EQ(pq.layout, csv.layout);
  EXPECT_EQ(pq.has_adj_close, csv.has_adj_close);
  EXPECT_EQ(pq.rows_read, csv.rows_read);
  ASSERT_EQ(pq.tickers.size(), csv.tickers.size());
  size_t bars = 0;
  for (size_t t = 0; t < csv.tickers.size(); ++t) {
    ASSERT_EQ(pq.tickers[t].ticker, csv.tickers[t].ticker);
    ASSERT_EQ(pq.tickers[t].bars.size(), csv.tickers[t].bars.size());
    for (size_t i = 0; i < csv.tickers[t].bars.size(); ++i) {
      const Bar& a = csv.tickers[t].bars[i];
      const Bar& b = pq.tickers[t].bars[i];
      EXPECT_EQ(b.time, a.time);
      EXPECT_EQ(b.open, a.open);
      EXPECT_EQ(b.high, a.high);
      EXPECT_EQ(b.low, a.low);
      EXPECT_EQ(b.close, a.close);
      EXPECT_EQ(b.adj_close, a.adj_close);
      EXPECT_EQ(b.volume, a.volume);
      EXPECT_EQ(b.file, a.file);
      EXPECT_EQ(b.line, a.line - 1);  // the CSV's line 1 is its header
      ++bars;
    }
  }
  EXPECT_EQ(bars, 6u);
  ASSERT_EQ(pq.rejections.size(), csv.rejections.size());
  ASSERT_EQ(pq.rejections.size(), 3u);  // close above high, close below low, a duplicate
  for (size_t i = 0; i < csv.rejections.size(); ++i) {
    EXPECT_EQ(pq.rejections[i].reason, csv.rejections[i].reason);
    EXPECT_EQ(pq.rejections[i].column, csv.rejections[i].column);
    EXPECT_EQ(pq.rejections[i].line, csv.rejections[i].line - 1);
    EXPECT_TRUE(pq.rejections[i].row);
  }
}

// ------------------------------------------------------- many batches over several row groups

#if TICKSTREAM_HAVE_PARQUET

// A per-ticker file of `rows` minute bars in row groups of `group_rows`: open 10, high 11, low 9,
// close 10.5, volume = row; row `nan_row`'s close is NaN and row `null_row`'s volume is null.
void write_big_file(const std::string& path, int64_t rows, int64_t group_rows, int64_t nan_row, int64_t null_row) {
  arrow::TimestampBuilder time(arrow::timestamp(arrow::TimeUnit::SECOND), arrow::default_memory_pool());
  arrow::DoubleBuilder open, high, low, close;
  arrow::Int64Builder volume;
  for (int64_t row = 1; row <= rows; ++row) {
    ASSERT_TRUE(time.Append(ts("2024-01-02T14:30:00Z") + 60 * (row - 1)).ok());
    ASSERT_TRUE(open.Append(10).ok() && high.Append(11).ok() && low.Append(9).ok());
    ASSERT_TRUE(close.Append(row == nan_row ? std::nan("") : 10.5).ok());
    ASSERT_TRUE((row == null_row ? volume.AppendNull() : volume.Append(row)).ok());
  }
  std::vector<std::shared_ptr<arrow::Array>> arrays(6);
  ASSERT_TRUE(time.Finish(&arrays[0]).ok() && open.Finish(&arrays[1]).ok() && high.Finish(&arrays[2]).ok());
  ASSERT_TRUE(low.Finish(&arrays[3]).ok() && close.Finish(&arrays[4]).ok() && volume.Finish(&arrays[5]).ok());
  const auto schema = arrow::schema({arrow::field("Date", arrow::timestamp(arrow::TimeUnit::SECOND)),
                                     arrow::field("Open", arrow::float64()), arrow::field("High", arrow::float64()),
                                     arrow::field("Low", arrow::float64()), arrow::field("Close", arrow::float64()),
                                     arrow::field("Volume", arrow::int64())});
  const std::shared_ptr<arrow::Table> table = arrow::Table::Make(schema, arrays);
  auto sink = arrow::io::FileOutputStream::Open(path);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), *sink, group_rows).ok());
  ASSERT_TRUE((*sink)->Close().ok());
}

class ParquetBigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tickstream_parquet_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "BIG.parquet").string();
    write_big_file(path_, kRows, kGroupRows, kNanRow, kNullRow);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static constexpr int64_t kRows = 150000, kGroupRows = 50000, kNanRow = 100001, kNullRow = 140000;
  std::filesystem::path dir_;
  std::string path_;
};

// Every kept bar's row, time and volume agree: no row lost or shifted at batch or group edges.
void expect_consecutive(const std::vector<Bar>& bars, int64_t first_row) {
  int64_t row = first_row;
  for (const Bar& b : bars) {
    if (row == 100001 || row == 140000) ++row;  // the rejected rows
    ASSERT_EQ(b.line, row);
    ASSERT_EQ(b.time, ts("2024-01-02T14:30:00Z") + 60 * (row - 1));
    ASSERT_EQ(b.volume, static_cast<double>(row));
    ++row;
  }
}

TEST_F(ParquetBigFile, BatchesAcrossRowGroupsKeepRowNumbers) {
  EXPECT_EQ(parquet_row_group_rows(path_), (std::vector<int64_t>{kGroupRows, kGroupRows, kGroupRows}));
  const ParsedFile f = parse_parquet_file(path_, 0, OnError::Skip, {});
  EXPECT_EQ(f.rows_read, kRows);
  expect_rejections(f, {{kNanRow, "Close", RejectReason::NotFinite, "nan"},
                        {kNullRow, "Volume", RejectReason::NullValue, ""}});
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "BIG");
  EXPECT_EQ(f.tickers[0].bars.size(), static_cast<size_t>(kRows - 2));
  expect_consecutive(f.tickers[0].bars, 1);
}

TEST_F(ParquetBigFile, LastGroupOnly) {
  const ParsedFile f = parse_parquet_file(path_, 0, OnError::Skip, {}, {2, 1});
  EXPECT_EQ(f.rows_read, kGroupRows);
  expect_rejections(f, {{kNanRow, "Close", RejectReason::NotFinite, "nan"},
                        {kNullRow, "Volume", RejectReason::NullValue, ""}});
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].bars.size(), static_cast<size_t>(kGroupRows - 2));
  expect_consecutive(f.tickers[0].bars, 2 * kGroupRows + 1);
  try {
    parse_parquet_file(path_, 0, OnError::Fail, {}, {2, 1});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": row 100001: column 'Close': not_finite: 'nan'");
  }
}

#else

TEST(ParquetReader, WithoutArrowEveryCallSaysSo) {
  const std::string want = fixture("long.parquet") +
                           ": this tickstream was built without Parquet support (Apache Arrow not found at configure "
                           "time; docs/build.md)";
  try {
    parquet_row_group_rows(fixture("long.parquet"));
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), want);
  }
  try {
    skip("long.parquet");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), want);
  }
}

#endif

}  // namespace
}  // namespace tickstream
