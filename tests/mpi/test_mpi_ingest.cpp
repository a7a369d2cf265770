// Parallel ingest: identical to serial ingest and to the synth store at any rank count; long-format
// tickers split across files; duplicates across files; bad input on one rank fails every rank.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "mpi/mpi_test.hpp"
#include "store/h5.hpp"
#include "store/ingest.hpp"
#include "store/store_compare.hpp"
#include "store/store_reader.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace {
namespace fs = std::filesystem;

using MpiIngest = testing::MpiTest;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool dir_has_temp_files(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

TEST_F(MpiIngest, SynthCsvEqualsSynthStoreAndSerialIngest) {
  const std::string dir = temp_dir();
  SynthSpec spec;
  spec.tickers = 23, spec.days = 260, spec.seed = 3;
  run_synth(comm(), spec, {dir + "/csv", "", 8, 128});
  run_synth(comm(), spec, {"", dir + "/direct.h5", 8, 128});
  const IngestReport rep = run_ingest(comm(), {{dir + "/csv"}, dir + "/par.h5", OnError::Fail, 8, 128});
  EXPECT_EQ(rep.tickers, 23);
  EXPECT_EQ(rep.bars, 260);
  EXPECT_EQ(rep.rows_read, rep.rows_stored);
  if (rank() != 0) return;
  run_ingest(tickstream::testing::self(), {{dir + "/csv"}, dir + "/ser.h5", OnError::Fail, 8, 128});
  auto d1 = compare_stores(dir + "/par.h5", dir + "/direct.h5");
  EXPECT_FALSE(d1.has_value()) << *d1;
  auto d2 = compare_stores(dir + "/par.h5", dir + "/ser.h5");
  EXPECT_FALSE(d2.has_value()) << *d2;
  StoreReader r(dir + "/par.h5");
  EXPECT_TRUE(h5::has_attr(r.root(), "oracle_ic"));  // from the synth.json sidecar
}

// Long format, one file per month, tickers interleaved: every ticker spans several files.
void write_long_files(const std::string& dir) {
  fs::create_directories(dir);
  write_text(dir + "/a_2020-01.csv",
             "date,ticker,open,high,low,close,volume\n"
             "2020-01-02,BBB,20,21,19,20.5,200\n2020-01-02,AAA,10,11,9,10.5,100\n"
             "2020-01-03,AAA,10.5,12,10,11,110\n");
  write_text(dir + "/b_2020-02.csv",
             "Date;Ticker;Open;High;Low;Close;Volume\r\n"
             "2020-02-03;CCC;30;31;29;30;300\r\n2020-02-03;AAA;11;11.5;10.5;11.25;120\r\n"
             "2020-02-04;BBB;21;22;20;21.5;210\r\n");
  write_text(dir + "/c_2020-03.csv",
             "\xEF\xBB\xBF" "DATE,TICKER,OPEN,HIGH,LOW,CLOSE,VOLUME\n"
             "2020-03-02,\"CCC\",\"31\",32,30,31.5,310\n2020-03-02,BBB,22,23,21,22.5,220\n");
}

TEST_F(MpiIngest, LongFormatTickersSpanningFiles) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_long_files(dir + "/in");
  comm().barrier();
  const IngestReport rep = run_ingest(comm(), {{dir + "/in"}, dir + "/long.h5", OnError::Fail, 2, 4});
  EXPECT_EQ(rep.rows_stored, 8);
  if (rank() != 0) return;
  StoreReader r(dir + "/long.h5");
  EXPECT_EQ(r.tickers(), (std::vector<std::string>{"AAA", "BBB", "CCC"}));
  const std::vector<std::string> dates{"2020-01-02", "2020-01-03", "2020-02-03", "2020-02-04", "2020-03-02"};
  ASSERT_EQ(r.time().size(), dates.size());
  for (size_t t = 0; t < dates.size(); ++t) EXPECT_EQ(r.time()[t], *parse_timestamp(dates[t]));
  EXPECT_EQ(r.frequency(), "1d");
  EXPECT_FALSE(r.has_adj_close());
  const RawBlock b = r.read_raw(0, 3);
  // AAA: bars at 01-02, 01-03, 02-03; BBB: 01-02, 02-04, 03-02; CCC: 02-03, 03-02.
  const std::vector<std::vector<int>> valid{{1, 1, 1, 0, 0}, {1, 0, 0, 1, 1}, {0, 0, 1, 0, 1}};
  for (int64_t row = 0; row < 3; ++row)
    for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(b.valid[b.index(row, t)], valid[row][t]) << row << "," << t;
  EXPECT_EQ(b.close[b.index(0, 2)], 11.25);
  EXPECT_EQ(b.volume[b.index(1, 4)], 220);
  EXPECT_EQ(b.open[b.index(2, 4)], 31);
  EXPECT_TRUE(std::isnan(b.close[b.index(2, 0)]));
}

void write_duplicate_files(const std::string& dir) {
  fs::create_directories(dir);
  write_text(dir + "/x1.csv", "date,ticker,open,high,low,close,volume\n2021-05-03,ZZZ,5,6,4,5.5,10\n"
                              "2021-05-04,ZZZ,5,6,4,5.25,10\n");
  write_text(dir + "/x2.csv", "date,ticker,open,high,low,close,volume\n2021-05-04,ZZZ,7,8,6,7.5,20\n");
}

TEST_F(MpiIngest, DuplicateAcrossFilesFailsEveryRank) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_duplicate_files(dir + "/in");
  comm().barrier();
  try {
    run_ingest(comm(), {{dir + "/in"}, dir + "/dup.h5", OnError::Fail, 16, 64});
    FAIL() << "expected a failure";
  } catch (const AgreedFailure& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    EXPECT_NE(std::string(e.what()).find("x2.csv:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("duplicate_timestamp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x1.csv:3"), std::string::npos) << e.what();
  }
  comm().barrier();
  EXPECT_FALSE(fs::exists(dir + "/dup.h5"));
  EXPECT_FALSE(dir_has_temp_files(dir));
}

TEST_F(MpiIngest, DuplicateAcrossFilesSkipKeepsFirst) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_duplicate_files(dir + "/in");
  comm().barrier();
  const IngestReport rep = run_ingest(comm(), {{dir + "/in"}, dir + "/dup.h5", OnError::Skip, 16, 64});
  EXPECT_EQ(rep.rejected[static_cast<size_t>(RejectReason::DuplicateTimestamp)], 1);
  EXPECT_EQ(rep.rows_stored, 2);
  if (rank() != 0) return;
  StoreReader r(dir + "/dup.h5");
  EXPECT_EQ(r.read_raw(0, 1).close[1], 5.25);
  h5::Handle raw = h5::open_group(r.root(), "raw");
  EXPECT_EQ(h5::get_attr_int(raw.id(), "rejected_duplicate_timestamp"), 1);
  EXPECT_EQ(h5::get_attr_string(raw.id(), "on_error"), "skip");
}

// Twelve per-ticker files; the bad one is last, so at 2 and 3 ranks the last rank parses it.
void write_files_with_bad_last(const std::string& dir, const std::string& bad_row) {
  fs::create_directories(dir);
  for (int i = 0; i < 12; ++i) {
    std::string text = "Date,Open,High,Low,Close,Volume\n";
    for (int d = 1; d <= 20; ++d) text += fmt::format("2022-03-{:02},10,11,9,10.5,1000\n", d);
    if (i == 11) text += bad_row + "\n";
    write_text(fmt::format("{}/T{:02}.csv", dir, i), text);
  }
}

TEST_F(MpiIngest, BadRowOnLastRankFailsEveryRankAndLeavesNoStore) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_files_with_bad_last(dir + "/in", "2022-03-21,10,9,11,10,5");  // high < low
  comm().barrier();
  try {
    run_ingest(comm(), {{dir + "/in"}, dir + "/bad.h5", OnError::Fail, 16, 64});
    FAIL() << "expected a failure";
  } catch (const AgreedFailure& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    EXPECT_NE(std::string(e.what()).find("T11.csv:22"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("high_below_low"), std::string::npos) << e.what();
    EXPECT_EQ(e.own_message().empty(), rank() != size() - 1);
  }
  comm().barrier();
  EXPECT_FALSE(fs::exists(dir + "/bad.h5"));
  EXPECT_FALSE(dir_has_temp_files(dir));
}

TEST_F(MpiIngest, SkipRecordsCountsPerReason) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_files_with_bad_last(dir + "/in", "2022-03-21,10,11,9,10.5,-1\n2022-03-22,x,11,9,10,1");
  comm().barrier();
  const IngestReport rep = run_ingest(comm(), {{dir + "/in"}, dir + "/skip.h5", OnError::Skip, 16, 64});
  EXPECT_EQ(rep.rejected[static_cast<size_t>(RejectReason::NegativeVolume)], 1);
  EXPECT_EQ(rep.rejected[static_cast<size_t>(RejectReason::NonNumeric)], 1);
  EXPECT_EQ(rep.rows_read, 12 * 20 + 2);
  EXPECT_EQ(rep.rows_stored, 12 * 20);
  if (rank() != 0) return;
  StoreReader r(dir + "/skip.h5");
  h5::Handle raw = h5::open_group(r.root(), "raw");
  EXPECT_EQ(h5::get_attr_int(raw.id(), "rejected_negative_volume"), 1);
  EXPECT_EQ(h5::get_attr_int(raw.id(), "rejected_non_numeric"), 1);
  EXPECT_EQ(h5::get_attr_int(raw.id(), "rejected_ragged_row"), 0);
}

// One long-format file of 40 tickers x 60 days written by rank 0, rows interleaved by date.
std::string write_long_table(const std::string& dir, const std::string& bad_row_at_day_45 = "") {
  fs::create_directories(dir);
  std::string text = "date,ticker,open,high,low,close,volume\n";
  for (int d = 0; d < 60; ++d) {
    for (int k = 0; k < 40; ++k)
      text += fmt::format("{},K{:02},{},{},{},{},{}\n", format_timestamp(*parse_timestamp("2021-01-01") + d * 86400), k,
                          10 + k, 11 + k, 9 + k, 10.5 + k + d / 128.0, 100 * d);
    if (d == 45 && !bad_row_at_day_45.empty()) text += bad_row_at_day_45 + "\n";
  }
  const std::string path = dir + "/all.csv";
  write_text(path, text);
  return path;
}

// A big long-format file is split into pieces over the ranks (tiny pieces here): the same store
// as one rank reading it whole.
TEST_F(MpiIngest, LongFileSplitOverRanksEqualsSerialIngest) {
  const std::string dir = temp_dir();
  if (rank() == 0) write_long_table(dir + "/in");
  comm().barrier();
  IngestOptions opt{{dir + "/in/all.csv"}, dir + "/split.h5", OnError::Fail, 8, 32};
  opt.min_piece_bytes = 1024;  // ~100 KB file: dozens of pieces
  opt.threads = 3;             // parsed three at a time on each rank
  const IngestReport rep = run_ingest(comm(), opt);
  EXPECT_EQ(rep.rows_stored, 40 * 60);
  EXPECT_EQ(rep.tickers, 40);
  if (rank() != 0) return;
  opt.store = dir + "/serial.h5";
  run_ingest(tickstream::testing::self(), opt);
  const auto diff = compare_stores(dir + "/split.h5", dir + "/serial.h5");
  EXPECT_FALSE(diff.has_value()) << *diff;
}

// A bad row deep in a split file is reported with its line in the whole file, on every rank, also
// when pieces after it (parsed at the same time) hold bad rows of their own.
TEST_F(MpiIngest, BadRowInSplitFileNamesItsRealLine) {
  const std::string dir = temp_dir();
  std::string path;
  if (rank() == 0) path = write_long_table(dir + "/in", "2021-02-15,K07,10,11,9,12,5");  // close > high
  if (rank() == 0) {  // and a second bad row near the end
    std::ofstream(dir + "/in/all.csv", std::ios::app) << "2021-03-30,K01,10,11,9,10,-1\n";
  }
  comm().barrier();
  IngestOptions opt{{dir + "/in/all.csv"}, dir + "/bad.h5", OnError::Fail, 8, 32};
  opt.min_piece_bytes = 1024;
  opt.threads = 3;  // later pieces fail too, on other threads: the first in file order is named
  const int64_t line = 1 + 46 * 40 + 1;  // header, 46 days of 40 rows, the bad row
  try {
    run_ingest(comm(), opt);
    FAIL() << "expected a failure";
  } catch (const AgreedFailure& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    EXPECT_NE(std::string(e.what()).find(fmt::format("all.csv:{}: column 'close': open_close_outside_range", line)),
              std::string::npos) << e.what();
  }
  comm().barrier();
  EXPECT_FALSE(fs::exists(dir + "/bad.h5"));
  opt.on_error = OnError::Skip;
  opt.store = dir + "/skipped.h5";
  const IngestReport rep = run_ingest(comm(), opt);
  EXPECT_EQ(rep.rejected[static_cast<size_t>(RejectReason::OpenCloseOutsideRange)], 1);
  EXPECT_EQ(rep.rejected[static_cast<size_t>(RejectReason::NegativeVolume)], 1);
  EXPECT_EQ(rep.rows_read, 40 * 60 + 2);
  EXPECT_EQ(rep.rows_stored, 40 * 60);
}

TEST_F(MpiIngest, MissingInputIsAnInputErrorOnEveryRank) {
  try {
    run_ingest(comm(), {{temp_dir() + "/nope"}, temp_dir() + "/x.h5", OnError::Fail, 16, 64});
    FAIL() << "expected a failure";
  } catch (const AgreedFailure& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tickstream
