// Unit tests of the OHLCV CSV reader: formats, quoting, every rejection reason under both policies.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/csv_reader.hpp"

namespace tickstream {
namespace {

constexpr const char* kPath = "/data/AAPL.csv";
constexpr const char* kHeader = "Date,Open,High,Low,Close,Adj Close,Volume\n";

ParsedFile skip(const std::string& text, const std::string& path = kPath) {
  return parse_csv_text(text, path, 3, OnError::Skip);
}

// The what() of the InputError that OnError::Fail throws, or "" (and a test failure) when none.
std::string fail_message(const std::string& text, const std::string& path = kPath) {
  try {
    parse_csv_text(text, path, 0, OnError::Fail);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for:\n" << text;
  return "";
}

int64_t ts(const char* text) { return parse_timestamp(text).value(); }

// ------------------------------------------------------------ every RejectReason, both policies

struct RejectCase {
  const char* label;
  std::string text;
  RejectReason reason;
  int64_t line;
  std::string column;  // "" for no column
  int kept;            // bars kept under Skip; -1 for a file-level problem (no tickers)
};

std::string rows(const char* bad) {
  return std::string(kHeader) + "2020-01-02,10,11,9,10.5,10.4,100\n" + bad + "\n" +
         "2020-01-06,10,11,9,10.5,10.4,100\n";
}

std::vector<RejectCase> reject_cases() {
  return {
      {"non_numeric", rows("2020-01-03,abc,11,9,10,10,100"), RejectReason::NonNumeric, 3, "Open",
       2},
      {"non_numeric_empty", rows("2020-01-03,10,11,9,,10,100"), RejectReason::NonNumeric, 3,
       "Close", 2},
      {"non_numeric_trailing", rows("2020-01-03,10,11,9,10,10,100x"), RejectReason::NonNumeric, 3,
       "Volume", 2},
      {"not_finite_inf", rows("2020-01-03,10,inf,9,10,10,100"), RejectReason::NotFinite, 3, "High",
       2},
      {"not_finite_nan", rows("2020-01-03,10,11,9,NaN,10,100"), RejectReason::NotFinite, 3,
       "Close", 2},
      {"not_finite_overflow", rows("2020-01-03,10,11,9,10,10,1e999"), RejectReason::NotFinite, 3,
       "Volume", 2},
      {"non_positive_adj", rows("2020-01-03,10,11,9,10,0,100"), RejectReason::NonPositivePrice, 3,
       "Adj Close", 2},
      {"non_positive_low", rows("2020-01-03,10,11,-1,10,10,100"), RejectReason::NonPositivePrice,
       3, "Low", 2},
      {"high_below_low", rows("2020-01-03,10,8,9,10,10,100"), RejectReason::HighBelowLow, 3,
       "High", 2},
      {"open_outside", rows("2020-01-03,12,11,9,10,10,100"), RejectReason::OpenCloseOutsideRange, 3,
       "Open", 2},
      {"close_outside", rows("2020-01-03,10,11,9,8.9,10,100"),
       RejectReason::OpenCloseOutsideRange, 3, "Close", 2},
      {"negative_volume", rows("2020-01-03,10,11,9,10,10,-5"), RejectReason::NegativeVolume, 3,
       "Volume", 2},
      {"duplicate", rows("2020-01-02,10,11,9,10,10,100"), RejectReason::DuplicateTimestamp, 3,
       "Date", 2},
      {"bad_date", rows("2020-13-01,10,11,9,10,10,100"), RejectReason::BadDate, 3, "Date", 2},
      {"bad_date_text", rows("yesterday,10,11,9,10,10,100"), RejectReason::BadDate, 3, "Date", 2},
      {"ragged_short", rows("2020-01-03,10,11,9,10,10"), RejectReason::RaggedRow, 3, "", 2},
      {"ragged_long", rows("2020-01-03,10,11,9,10,10,100,7"), RejectReason::RaggedRow, 3, "", 2},
      {"unterminated", rows("2020-01-03,\"10,11,9,10,10,100"), RejectReason::UnterminatedQuote, 3,
       "", 2},
      {"missing_close", "Date,Open,High,Low,Adj Close,Volume\n2020-01-02,10,11,9,10,100\n",
       RejectReason::MissingColumn, 1, "Close", -1},
      {"missing_date", "Day,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10,100\n",
       RejectReason::MissingColumn, 1, "Date", -1},
      {"empty_text", "", RejectReason::EmptyFile, 0, "", -1},
      {"blank_only", "\n  \r\n\n", RejectReason::EmptyFile, 0, "", -1},
      {"header_only", kHeader, RejectReason::EmptyFile, 0, "", -1},
      {"header_unterminated", "Date,\"Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\n",
       RejectReason::UnterminatedQuote, 1, "", -1},
  };
}

class RejectTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectTest, FailThrowsWithLocationColumnAndReason) {
  const RejectCase& c = GetParam();
  const std::string what = fail_message(c.text);
  const std::string where = c.line > 0 ? fmt::format("AAPL.csv:{}: ", c.line) : "AAPL.csv: ";
  EXPECT_NE(what.find(where), std::string::npos) << what;
  EXPECT_NE(what.find(std::string(reason_name(c.reason))), std::string::npos) << what;
  if (c.column.empty()) {
    EXPECT_EQ(what.find("column '"), std::string::npos) << what;
  } else {
    EXPECT_NE(what.find("column '" + c.column + "'"), std::string::npos) << what;
  }
}

TEST_P(RejectTest, SkipRecordsRowAndKeepsOthers) {
  const RejectCase& c = GetParam();
  const ParsedFile f = skip(c.text);
  ASSERT_EQ(f.rejections.size(), 1u);
  const Rejection& r = f.rejections[0];
  EXPECT_EQ(r.reason, c.reason) << r.message();
  EXPECT_EQ(r.line, c.line);
  EXPECT_EQ(r.column, c.column);
  EXPECT_EQ(r.file, kPath);
  if (c.kept < 0) {
    EXPECT_TRUE(f.tickers.empty());
    return;
  }
  EXPECT_EQ(f.rows_read, 3);
  ASSERT_EQ(f.tickers.size(), 1u);
  ASSERT_EQ(f.tickers[0].bars.size(), static_cast<size_t>(c.kept));
  EXPECT_EQ(f.tickers[0].bars[0].line, 2);
  EXPECT_EQ(f.tickers[0].bars[1].line, 4);
}

INSTANTIATE_TEST_SUITE_P(AllReasons, RejectTest, ::testing::ValuesIn(reject_cases()),
                         [](const auto& p) { return std::string(p.param.label); });

TEST(CsvReject, EveryReasonHasADistinctSnakeCaseName) {
  std::set<std::string_view> names;
  for (int i = 0; i < kRejectReasonCount; ++i) {
    const std::string_view name = reason_name(static_cast<RejectReason>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kRejectReasonCount));
  EXPECT_EQ(reason_name(RejectReason::OpenCloseOutsideRange), "open_close_outside_range");
}

TEST(CsvReject, MessageFormat) {
  Rejection r{"d/x.csv", 12, "Volume", RejectReason::NegativeVolume, "-3"};
  EXPECT_EQ(r.message(), "d/x.csv:12: column 'Volume': negative_volume: '-3'");
  r.column = "";
  EXPECT_EQ(r.message(), "d/x.csv:12: negative_volume: '-3'");
  r = Rejection{"d/x.csv", 0, "", RejectReason::EmptyFile, ""};
  EXPECT_EQ(r.message(), "d/x.csv: empty_file");
}

TEST(CsvReject, DuplicateNamesFirstLineAndKeepsIt) {
  const ParsedFile f = skip(rows("2020-01-02,10,11,9,10,10,999"));
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_NE(f.rejections[0].detail.find("line 2"), std::string::npos) << f.rejections[0].detail;
  EXPECT_EQ(f.tickers[0].bars[0].volume, 100);
  EXPECT_NE(fail_message(rows("2020-01-02,10,11,9,10,10,999")).find("line 2"), std::string::npos);
}

TEST(CsvReject, SkipRecordsAllInLineOrder) {
  const std::string text = std::string(kHeader) +
                           "2020-01-03,10,11,9,10,10,100\n"   // 2
                           "2020-01-02,10,11,9,10,10,x\n"     // 3 non_numeric
                           "2020-01-03,10,11,9,10,10,100\n"   // 4 duplicate of 2
                           "2020-01-04,10,11,9,10,10\n"       // 5 ragged
                           "2020-01-05,10,11,9,10,10,100\n";  // 6
  const ParsedFile f = skip(text);
  ASSERT_EQ(f.rejections.size(), 3u);
  EXPECT_EQ(f.rejections[0].line, 3);
  EXPECT_EQ(f.rejections[1].line, 4);
  EXPECT_EQ(f.rejections[1].reason, RejectReason::DuplicateTimestamp);
  EXPECT_EQ(f.rejections[2].line, 5);
  EXPECT_EQ(f.rows_read, 5);
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].bars.size(), 2u);
}

TEST(CsvReject, FailReportsTheEarliestProblem) {
  const std::string text = std::string(kHeader) +
                           "2020-01-02,10,11,9,10,10,100\n"  // 2
                           "2020-01-02,10,11,9,10,10,100\n"  // 3 duplicate
                           "2020-01-03,10,11,9,10,10,x\n";   // 4 non_numeric
  const std::string what = fail_message(text);
  EXPECT_NE(what.find("AAPL.csv:3: "), std::string::npos) << what;
  EXPECT_NE(what.find("duplicate_timestamp"), std::string::npos) << what;
}

TEST(CsvReject, AllRowsRejectedLeavesNoTicker) {
  const ParsedFile f = skip(std::string(kHeader) + "2020-01-02,x,1,1,1,1,1\n");
  EXPECT_TRUE(f.tickers.empty());
  EXPECT_EQ(f.rows_read, 1);
  EXPECT_EQ(f.rejections.size(), 1u);
}

// ---------------------------------------------------------------- values and layout

TEST(CsvValues, ExactParsedValues) {
  const ParsedFile f =
      skip(std::string(kHeader) + "2010-01-04,123.4567,124.1,122.9,123.5,61.75,1234567\n");
  EXPECT_TRUE(f.rejections.empty());
  EXPECT_EQ(f.layout, CsvLayout::PerTicker);
  EXPECT_TRUE(f.has_adj_close);
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "AAPL");
  ASSERT_EQ(f.tickers[0].bars.size(), 1u);
  const Bar& b = f.tickers[0].bars[0];
  EXPECT_EQ(b.time, 1262563200);
  EXPECT_EQ(b.open, 123.4567);
  EXPECT_EQ(b.high, 124.1);
  EXPECT_EQ(b.low, 122.9);
  EXPECT_EQ(b.close, 123.5);
  EXPECT_EQ(b.adj_close, 61.75);
  EXPECT_EQ(b.volume, 1234567.0);
  EXPECT_EQ(b.file, 3);
  EXPECT_EQ(b.line, 2);
  EXPECT_EQ(f.rows_read, 1);
  EXPECT_EQ(f.path, kPath);
}

TEST(CsvValues, NumberSyntax) {
  const ParsedFile f =
      skip(std::string(kHeader) + "2010-01-04, 1.5e1 ,+16,.14e2,15.,15,0\n");
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  const Bar& b = f.tickers[0].bars[0];
  EXPECT_EQ(b.open, 15.0);
  EXPECT_EQ(b.high, 16.0);
  EXPECT_EQ(b.low, 14.0);
  EXPECT_EQ(b.close, 15.0);
  EXPECT_EQ(b.volume, 0.0);
  EXPECT_EQ(skip(std::string(kHeader) + "2010-01-04,15,16,14,15,15,+-1\n").rejections.at(0).reason,
            RejectReason::NonNumeric);
}

TEST(CsvValues, AdjCloseAbsentIsNaN) {
  const ParsedFile f = skip("Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10,5\n");
  EXPECT_FALSE(f.has_adj_close);
  ASSERT_EQ(f.tickers.at(0).bars.size(), 1u);
  EXPECT_TRUE(std::isnan(f.tickers[0].bars[0].adj_close));
}

TEST(CsvValues, AdjCloseSpellings) {
  for (const char* name : {"Adj Close", "adj_close", "AdjClose", "Adj. Close", " ADJ CLOSE "}) {
    const ParsedFile f = skip(std::string("Date,Open,High,Low,Close,") + name +
                              ",Volume\n2020-01-02,10,11,9,10,7.5,5\n");
    EXPECT_TRUE(f.has_adj_close) << name;
    ASSERT_EQ(f.tickers.size(), 1u) << name;
    EXPECT_EQ(f.tickers[0].bars[0].adj_close, 7.5) << name;
  }
}

TEST(CsvValues, DateColumnSpellings) {
  for (const char* name : {"Date", "datetime", "Timestamp", "TIME"}) {
    const ParsedFile f = skip(std::string(name) + ",Open,High,Low,Close,Volume\n" +
                              "2020-01-02,10,11,9,10,5\n");
    ASSERT_EQ(f.tickers.size(), 1u) << name;
    EXPECT_EQ(f.tickers[0].bars[0].time, ts("2020-01-02")) << name;
  }
}

TEST(CsvValues, HeadersCaseInsensitiveTrimmedAndReportedAsWritten) {
  const std::string text =
      " DATE ,open,HiGh, Low ,CLOSE,Volume\n2020-01-02,10,11,9,10,5\n2020-01-03,10,11,9,x,5\n";
  const ParsedFile f = skip(text);
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].bars.size(), 1u);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].column, "CLOSE");
}

TEST(CsvValues, ExtraColumnsIgnored) {
  const std::string text =
      "Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits,Note\n"
      "2020-01-02,10,11,9,10,10,100,0.0,0.0,anything\n"
      "2020-01-03,10,11,9,10,10,100,,2:1,\n";
  const ParsedFile f = skip(text);
  EXPECT_TRUE(f.rejections.empty());
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].bars.size(), 2u);
}

TEST(CsvValues, ColumnOrderFollowsHeader) {
  const ParsedFile f = skip("Volume,Close,Low,High,Open,Date\n5,10,9,11,10.5,2020-01-02\n");
  ASSERT_EQ(f.tickers.size(), 1u);
  const Bar& b = f.tickers[0].bars[0];
  EXPECT_EQ(b.volume, 5);
  EXPECT_EQ(b.close, 10);
  EXPECT_EQ(b.open, 10.5);
  EXPECT_EQ(b.time, ts("2020-01-02"));
}

// ---------------------------------------------------------------- tokenizer

TEST(CsvTokens, QuotedHeaderAndNumbers) {
  const std::string text =
      "\"Date\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\"\n"
      "\"2020-01-02\",\"10.25\",\"11\",\"9\", \"10\" ,\"5\"\n";
  const ParsedFile f = skip(text);
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  const Bar& b = f.tickers.at(0).bars.at(0);
  EXPECT_EQ(b.open, 10.25);
  EXPECT_EQ(b.close, 10.0);
  EXPECT_EQ(b.volume, 5.0);
}

TEST(CsvTokens, EscapedQuotesAndDelimiterInsideQuotes) {
  const std::string text =
      "Date,Open,High,Low,Close,Volume,\"Note, with comma\"\n"
      "2020-01-02,10,11,9,10,5,\"say \"\"hi\"\", then, go\"\n"
      "2020-01-03,10,11,9,10,5,\"\"\n"
      "2020-01-06,\"1,5\",11,9,10,5,x\n";
  const ParsedFile f = skip(text);
  ASSERT_EQ(f.tickers.at(0).bars.size(), 2u);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].line, 4);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::NonNumeric);  // not ragged: one quoted field
  EXPECT_EQ(f.rejections[0].detail, "1,5");
}

TEST(CsvTokens, CrlfLineEndings) {
  const std::string text =
      "Date,Open,High,Low,Close,Volume\r\n2020-01-02,10,11,9,10,5\r\n2020-01-03,10,11,9,10,6\r\n";
  const ParsedFile f = skip(text);
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  ASSERT_EQ(f.tickers.at(0).bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[1].volume, 6.0);
  EXPECT_EQ(f.tickers[0].bars[1].line, 3);
}

TEST(CsvTokens, Utf8Bom) {
  const ParsedFile f =
      skip("\xEF\xBB\xBF" "Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10,5\n");
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  EXPECT_EQ(f.tickers.at(0).bars.size(), 1u);
}

TEST(CsvTokens, SemicolonDelimiter) {
  const std::string text =
      "Date;Open;High;Low;Close;Adj Close;Volume\n"
      "2020-01-02;10.5;11;9;10;10;5\n"
      "2020-01-03;\"10.5\";11;9;10;10;5\n";
  const ParsedFile f = skip(text);
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  ASSERT_EQ(f.tickers.at(0).bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[0].open, 10.5);
  EXPECT_EQ(f.tickers[0].bars[1].open, 10.5);
}

TEST(CsvTokens, CommaWinsOverSemicolonAndQuotedSemicolonIgnored) {
  const ParsedFile f = skip("Date,Open,High,Low,Close,Volume,\"a;b\"\n2020-01-02,10,11,9,10,5,x\n");
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  EXPECT_EQ(f.tickers.at(0).bars.size(), 1u);
}

TEST(CsvTokens, BlankLinesSkippedAndLinesCounted) {
  const std::string text =
      "\nDate,Open,High,Low,Close,Volume\n"  // header on line 2
      "2020-01-02,10,11,9,10,5\n"            // 3
      "\n"                                   // 4
      "   \n"                                // 5
      "2020-01-03,10,11,9,x,5\n"             // 6
      "2020-01-06,10,11,9,10,5\n"            // 7
      "\n";
  const ParsedFile f = skip(text);
  EXPECT_EQ(f.rows_read, 3);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].line, 6);
  ASSERT_EQ(f.tickers.at(0).bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[1].line, 7);
}

TEST(CsvTokens, NoTrailingNewline) {
  const ParsedFile f = skip("Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10,5");
  EXPECT_EQ(f.tickers.at(0).bars.at(0).volume, 5.0);
}

// ---------------------------------------------------------------- order, times, long format

TEST(CsvOrder, DescendingRowsSorted) {
  const std::string text = std::string(kHeader) +
                           "2020-01-06,10,11,9,10,10,3\n"
                           "2020-01-03,10,11,9,10,10,2\n"
                           "2020-01-02,10,11,9,10,10,1\n";
  const ParsedFile f = skip(text);
  const auto& bars = f.tickers.at(0).bars;
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].time, ts("2020-01-02"));
  EXPECT_EQ(bars[0].line, 4);
  EXPECT_EQ(bars[2].time, ts("2020-01-06"));
  EXPECT_EQ(bars[2].line, 2);
}

TEST(CsvOrder, MixedOrderSortedWithDuplicateLaterLineRejected) {
  const std::string text = std::string(kHeader) +
                           "2020-01-03,10,11,9,10,10,2\n"  // 2
                           "2020-01-06,10,11,9,10,10,3\n"  // 3
                           "2020-01-02,10,11,9,10,10,1\n"  // 4
                           "2020-01-03,10,11,9,10,10,9\n";  // 5 duplicate of 2
  const ParsedFile f = skip(text);
  const auto& bars = f.tickers.at(0).bars;
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].volume, 1);
  EXPECT_EQ(bars[1].volume, 2);
  EXPECT_EQ(bars[2].volume, 3);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].line, 5);
}

TEST(CsvOrder, DateTimesWithZoneAndOffsets) {
  const std::string text = std::string(kHeader) +
                           "2020-01-02T14:30:00Z,10,11,9,10,10,1\n"
                           "2020-01-02 09:31:00-05:00,10,11,9,10,10,2\n"
                           "2020-01-02T15:32:00+0100,10,11,9,10,10,3\n"
                           "2020-01-02 14:29,10,11,9,10,10,4\n";
  const ParsedFile f = skip(text);
  ASSERT_TRUE(f.rejections.empty()) << f.rejections[0].message();
  const auto& bars = f.tickers.at(0).bars;
  ASSERT_EQ(bars.size(), 4u);
  const int64_t base = ts("2020-01-02") + 14 * 3600 + 29 * 60;
  EXPECT_EQ(bars[0].time, base);
  EXPECT_EQ(bars[0].volume, 4);
  EXPECT_EQ(bars[1].time, base + 60);
  EXPECT_EQ(bars[2].time, base + 120);
  EXPECT_EQ(bars[3].time, base + 180);
  EXPECT_EQ(bars[3].volume, 3);
}

TEST(CsvOrder, SameInstantInDifferentZonesIsDuplicate) {
  const ParsedFile f = skip(std::string(kHeader) +
                            "2020-01-02T14:30:00Z,10,11,9,10,10,1\n"
                            "2020-01-02T09:30:00-05:00,10,11,9,10,10,2\n");
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::DuplicateTimestamp);
}

TEST(CsvLong, InterleavedTickersGroupedAndSorted) {
  const std::string text =
      "date,ticker,open,high,low,close,volume\n"
      "2020-01-03,MSFT,20,21,19,20,1\n"   // 2
      "2020-01-03,AAPL,10,11,9,10,2\n"    // 3
      "2020-01-02,MSFT,20,21,19,20,3\n"   // 4
      "2020-01-02,AAPL,10,11,9,10,4\n"    // 5
      "2020-01-02,BRK.B,30,31,29,30,5\n"  // 6
      "2020-01-06,AAPL,10,11,9,10,6\n";   // 7
  const ParsedFile f = parse_csv_text(text, "all.csv", 1, OnError::Fail);
  EXPECT_EQ(f.layout, CsvLayout::Long);
  EXPECT_FALSE(f.has_adj_close);
  EXPECT_EQ(f.rows_read, 6);
  ASSERT_EQ(f.tickers.size(), 3u);
  EXPECT_EQ(f.tickers[0].ticker, "AAPL");
  EXPECT_EQ(f.tickers[1].ticker, "BRK.B");
  EXPECT_EQ(f.tickers[2].ticker, "MSFT");
  const auto& aapl = f.tickers[0].bars;
  ASSERT_EQ(aapl.size(), 3u);
  EXPECT_EQ(aapl[0].line, 5);
  EXPECT_EQ(aapl[1].line, 3);
  EXPECT_EQ(aapl[2].line, 7);
  EXPECT_EQ(aapl[2].file, 1);
  ASSERT_EQ(f.tickers[2].bars.size(), 2u);
  EXPECT_EQ(f.tickers[2].bars[0].open, 20);
  EXPECT_EQ(f.tickers[2].bars[0].time, ts("2020-01-02"));
}

TEST(CsvLong, SymbolColumnAndPerTickerDuplicates) {
  const std::string text =
      "Symbol,Date,Open,High,Low,Close,Adj Close,Volume\n"
      "X,2020-01-02,10,11,9,10,10,1\n"
      "Y,2020-01-02,10,11,9,10,10,1\n"  // same time, other ticker: fine
      "X,2020-01-02,10,11,9,10,10,1\n"  // duplicate of line 2
      ",2020-01-03,10,11,9,10,10,1\n";  // no ticker
  const ParsedFile f = skip(text, "long.csv");
  EXPECT_EQ(f.layout, CsvLayout::Long);
  EXPECT_TRUE(f.has_adj_close);
  ASSERT_EQ(f.tickers.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars.size(), 1u);
  EXPECT_EQ(f.tickers[1].bars.size(), 1u);
  ASSERT_EQ(f.rejections.size(), 2u);
  EXPECT_EQ(f.rejections[0].line, 4);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::DuplicateTimestamp);
  EXPECT_EQ(f.rejections[1].line, 5);
  EXPECT_EQ(f.rejections[1].column, "Symbol");
}

TEST(CsvLong, FailReportsEarlierDuplicateBeforeLaterRowError) {
  const std::string text =
      "date,ticker,open,high,low,close,volume\n"
      "2020-01-02,A,10,11,9,10,1\n"   // 2
      "2020-01-02,B,10,11,9,10,1\n"   // 3
      "2020-01-02,A,10,11,9,10,1\n"   // 4 duplicate of 2
      "2020-01-03,B,10,11,9,10,-1\n";  // 5 negative volume
  const std::string what = fail_message(text, "long.csv");
  EXPECT_NE(what.find("long.csv:4: column 'date': duplicate_timestamp"), std::string::npos) << what;
}

TEST(CsvLong, ManyRowsManyTickers) {
  // Dates descending, 50 tickers interleaved: exercises the row-count guess and the final grouping.
  std::string text = "Date,Ticker,Open,High,Low,Close,Volume\n";
  constexpr int kDays = 400;
  constexpr int kTickers = 50;
  for (int d = kDays - 1; d >= 0; --d) {
    for (int t = 0; t < kTickers; ++t) {
      text += fmt::format("{},T{:02},{},{},{},{},{}\n", format_timestamp(int64_t{d} * 86400), t,
                          10 + t, 11 + t, 9 + t, 10 + t, d);
    }
  }
  const ParsedFile f = parse_csv_text(text, "many.csv", 0, OnError::Fail);
  EXPECT_EQ(f.rows_read, kDays * kTickers);
  ASSERT_EQ(f.tickers.size(), static_cast<size_t>(kTickers));
  for (int t = 0; t < kTickers; ++t) {
    const TickerBars& tb = f.tickers[t];
    EXPECT_EQ(tb.ticker, fmt::format("T{:02}", t));
    ASSERT_EQ(tb.bars.size(), static_cast<size_t>(kDays));
    for (int d = 0; d < kDays; ++d) {
      ASSERT_EQ(tb.bars[d].time, int64_t{d} * 86400);
      ASSERT_EQ(tb.bars[d].volume, d);
      ASSERT_EQ(tb.bars[d].open, 10 + t);
      ASSERT_EQ(tb.bars[d].line, 2 + (kDays - 1 - d) * kTickers + t);
    }
  }
}

// ---------------------------------------------------------------- tolerance

TEST(CsvTolerance, JustWithinAcceptedJustOutsideRejected) {
  // kRangeTolerance is 1e-6 relative: half of it passes, twice it fails.
  const std::string text = std::string(kHeader) +
                           "2020-01-02,99.99995,100,100,100,100,1\n"   // open below low by 5e-7
                           "2020-01-03,100,100,100,100.00005,100,1\n"  // close above high by 5e-7
                           "2020-01-06,99.9998,100,100,100,100,1\n"    // 2e-6 below
                           "2020-01-07,100,100,100,100.0002,100,1\n";  // 2e-6 above
  const ParsedFile f = skip(text);
  ASSERT_EQ(f.tickers.at(0).bars.size(), 2u);
  EXPECT_EQ(f.tickers[0].bars[0].open, 99.99995);
  ASSERT_EQ(f.rejections.size(), 2u);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::OpenCloseOutsideRange);
  EXPECT_EQ(f.rejections[0].column, "Open");
  EXPECT_EQ(f.rejections[1].column, "Close");
}

// ---------------------------------------------------------------- files

TEST(CsvFile, StemIsTickerAndBytesIsFileSize) {
  const std::string path = ::testing::TempDir() + "/BRK.B.csv";
  const std::string text = std::string(kHeader) + "2020-01-02,10,11,9,10,10,1\n";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  const ParsedFile f = parse_csv_file(path, 7, OnError::Fail);
  EXPECT_EQ(f.path, path);
  EXPECT_EQ(f.bytes, static_cast<int64_t>(text.size()));
  ASSERT_EQ(f.tickers.size(), 1u);
  EXPECT_EQ(f.tickers[0].ticker, "BRK.B");
  EXPECT_EQ(f.tickers[0].bars.at(0).file, 7);
  std::remove(path.c_str());
}

TEST(CsvFile, TickerKeptAsWrittenAndTextBytes) {
  const std::string text = std::string(kHeader) + "2020-01-02,10,11,9,10,10,1\n";
  const ParsedFile f = skip(text, "dir/aapl.csv");
  EXPECT_EQ(f.tickers.at(0).ticker, "aapl");
  EXPECT_EQ(f.bytes, static_cast<int64_t>(text.size()));
}

TEST(CsvFile, EmptyFileOnDisk) {
  const std::string path = ::testing::TempDir() + "/EMPTY.csv";
  { std::ofstream out(path, std::ios::binary); }
  const ParsedFile f = parse_csv_file(path, 0, OnError::Skip);
  EXPECT_EQ(f.bytes, 0);
  ASSERT_EQ(f.rejections.size(), 1u);
  EXPECT_EQ(f.rejections[0].reason, RejectReason::EmptyFile);
  try {
    parse_csv_file(path, 0, OnError::Fail);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("EMPTY.csv: empty_file"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(CsvFile, MissingFileIsInputError) {
  EXPECT_THROW(parse_csv_file(::testing::TempDir(), 0, OnError::Skip), InputError);
  EXPECT_THROW(parse_csv_file(::testing::TempDir() + "/no_such_file.csv", 0, OnError::Skip),
               InputError);
}

}  // namespace
}  // namespace tickstream
