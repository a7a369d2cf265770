// The HDF5 and CSV prediction sinks at 1-3 ranks: read back equals the global set, in order.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "mpi/mpi_test.hpp"
#include "predict/prediction.hpp"
#include "store/h5.hpp"

namespace tickstream {
namespace {

using MpiFileSinks = testing::MpiTest;
namespace fs = std::filesystem;

constexpr int kTickers = 17;
constexpr int64_t kDay = 1704153600;                       // 2024-01-02 (midnight: date only)
constexpr int64_t kIntraday = kDay + 86400 + 14 * 3600 + 1800;  // 2024-01-03T14:30:00Z
const std::vector<int64_t> kAsofs{kDay, kIntraday};

std::string ticker(int i) { return i == 5 ? "BR,K" : i == 9 ? "Q\"T" : fmt::format("T{:02}", i); }

// "" when scored, else the reason (3 skipped in all).
std::string skip_reason(int i, size_t d) {
  if (d == 0 && i == 3) return "not enough history";
  if (d == 0 && i == 11) return "delisted, no bars";
  if (d == 1 && i == 7) return "halted \"news\"";
  return "";
}

Prediction prediction(int i, size_t d) {
  Prediction p;
  p.ticker = ticker(i);
  p.asof = kAsofs[d];
  p.pred_return = std::sin(static_cast<float>(i + 1) * 0.37f + static_cast<float>(d)) / 300.0f;
  p.prob_up = 1.0f / (1.0f + std::exp(-300.0f * p.pred_return));
  p.confidence = std::fabs(2 * p.prob_up - 1);
  p.rank = (i * 7 + static_cast<int>(d)) % kTickers + 1;
  p.model_id = "mlp-3f2a";
  return p;
}

// Tickers [begin, end), rows in (as-of, ticker) order: the share of one rank, or all.
PredictionSet make_set(int begin, int end) {
  PredictionSet set;
  for (size_t d = 0; d < kAsofs.size(); ++d)
    for (int i = begin; i < end; ++i) {
      const std::string why = skip_reason(i, d);
      if (why.empty()) set.rows.push_back(prediction(i, d));
      else set.skipped.push_back({ticker(i), kAsofs[d], why});
    }
  return set;
}

// Uneven consecutive ranges; at 3 ranks rank 0 gets nothing.
PredictionSet share(int rank, int size) {
  std::vector<int> bounds;
  if (size == 1) bounds = {0, kTickers};
  else if (size == 2) bounds = {0, 12, kTickers};
  else if (size == 3) bounds = {0, 0, 5, kTickers};
  else
    for (int r = 0; r <= size; ++r) bounds.push_back(kTickers * r / size);
  return make_set(bounds[static_cast<size_t>(rank)], bounds[static_cast<size_t>(rank) + 1]);
}

template <typename T>
std::vector<T> read_column(const h5::File& f, const std::string& name, hid_t type) {
  h5::Handle ds = h5::open_dataset(f.id(), name);
  std::vector<T> out(h5::dataset_dims(ds.id()).at(0));
  h5::read_rows(f, ds.id(), type, 0, out.size(), out.data());
  return out;
}

void check_hdf5(const std::string& path) {
  const PredictionSet all = make_set(0, kTickers);
  h5::File f = h5::File::open(path, false);
  EXPECT_EQ(h5::get_attr_string(f.id(), "format"), "tickstream.predictions");
  EXPECT_EQ(h5::get_attr_int(f.id(), "version"), 1);
  EXPECT_EQ(h5::get_attr_string(f.id(), "model_id"), "mlp-3f2a");
  const auto tickers = h5::read_strings(f.id(), "predictions/ticker");
  const auto iso = h5::read_strings(f.id(), "predictions/asof_iso");
  const auto asof = read_column<int64_t>(f, "predictions/asof", H5T_NATIVE_INT64);
  const auto pred = read_column<float>(f, "predictions/pred_return", H5T_NATIVE_FLOAT);
  const auto prob = read_column<float>(f, "predictions/prob_up", H5T_NATIVE_FLOAT);
  const auto conf = read_column<float>(f, "predictions/confidence", H5T_NATIVE_FLOAT);
  const auto rank = read_column<int64_t>(f, "predictions/rank", H5T_NATIVE_INT64);
  ASSERT_EQ(tickers.size(), all.rows.size());
  ASSERT_EQ(rank.size(), all.rows.size());
  for (size_t i = 0; i < all.rows.size(); ++i) {
    const Prediction& p = all.rows[i];
    EXPECT_EQ(tickers[i], p.ticker) << i;
    EXPECT_EQ(asof[i], p.asof) << i;
    EXPECT_EQ(iso[i], format_timestamp(p.asof)) << i;
    EXPECT_EQ(pred[i], p.pred_return) << i;
    EXPECT_EQ(prob[i], p.prob_up) << i;
    EXPECT_EQ(conf[i], p.confidence) << i;
    EXPECT_EQ(rank[i], p.rank) << i;
  }
  const auto s_tickers = h5::read_strings(f.id(), "skipped/ticker");
  const auto s_asof = read_column<int64_t>(f, "skipped/asof", H5T_NATIVE_INT64);
  const auto s_reason = h5::read_strings(f.id(), "skipped/reason");
  ASSERT_EQ(s_tickers.size(), all.skipped.size());
  for (size_t i = 0; i < all.skipped.size(); ++i) {
    EXPECT_EQ(s_tickers[i], all.skipped[i].ticker);
    EXPECT_EQ(s_asof[i], all.skipped[i].asof);
    EXPECT_EQ(s_reason[i], all.skipped[i].reason);
  }
}

// The fields of one CSV line (RFC 4180 quoting).
std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += line[++i];
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(csv_split(line));
  return rows;
}

void check_csv(const std::string& path, const std::string& skipped_path) {
  const PredictionSet all = make_set(0, kTickers);
  const auto rows = read_csv(path);
  ASSERT_EQ(rows.size(), all.rows.size() + 1);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ticker", "asof", "pred_return", "prob_up", "confidence",
                                                "rank", "model_id"}));
  for (size_t i = 0; i < all.rows.size(); ++i) {
    const Prediction& p = all.rows[i];
    const auto& r = rows[i + 1];
    ASSERT_EQ(r.size(), 7u) << i;
    EXPECT_EQ(r[0], p.ticker);
    EXPECT_EQ(r[1], format_timestamp(p.asof));
    EXPECT_EQ(std::strtof(r[2].c_str(), nullptr), p.pred_return) << r[2];
    EXPECT_EQ(std::strtof(r[3].c_str(), nullptr), p.prob_up) << r[3];
    EXPECT_EQ(std::strtof(r[4].c_str(), nullptr), p.confidence) << r[4];
    EXPECT_EQ(r[5], std::to_string(p.rank));
    EXPECT_EQ(r[6], p.model_id);
  }
  const auto skipped = read_csv(skipped_path);
  ASSERT_EQ(skipped.size(), all.skipped.size() + 1);
  EXPECT_EQ(skipped[0], (std::vector<std::string>{"ticker", "asof", "reason"}));
  for (size_t i = 0; i < all.skipped.size(); ++i)
    EXPECT_EQ(skipped[i + 1], (std::vector<std::string>{all.skipped[i].ticker,
                                                         format_timestamp(all.skipped[i].asof),
                                                         all.skipped[i].reason}));
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The first ```python block of the "Predictions file" section of docs/store-format.md.
std::string docs_snippet() {
  std::ifstream in(std::string(TICKSTREAM_SOURCE_DIR) + "/docs/store-format.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t section = doc.find("## Predictions file");
  const size_t begin = doc.find("```python\n", section);
  const size_t end = doc.find("```", begin + 10);
  if (section == std::string::npos || begin == std::string::npos || end == std::string::npos) return "";
  return doc.substr(begin + 10, end - begin - 10);
}

// Runs the docs snippet with its path replaced by `path`; returns its output ("" on failure).
std::string run_docs_snippet(const std::string& dir, const std::string& path) {
  std::string code = docs_snippet();
  const std::string placeholder = "predictions.h5";
  const size_t at = code.find("\"" + placeholder + "\"");
  if (at == std::string::npos) return "";
  code.replace(at + 1, placeholder.size(), path);
  const std::string script = dir + "/snippet.py";
  std::ofstream(script) << code;
  FILE* p = popen(("/usr/bin/python3 " + script + " 2>&1").c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  const int rc = p ? pclose(p) : -1;
  std::remove(script.c_str());
  return rc == 0 ? out : "FAILED: " + out;
}

TEST_F(MpiFileSinks, Hdf5HoldsTheGlobalSetInOrder) {
  const std::string path = temp_dir() + "/preds.h5";
  auto sink = make_hdf5_sink(path);
  sink->write(comm(), share(rank(), size()));
  if (rank() == 0) {
    check_hdf5(path);
    EXPECT_EQ(dir_entries(temp_dir()), std::vector<std::string>{"preds.h5"});
    const std::string out = run_docs_snippet(temp_dir(), path);
    EXPECT_NE(out.find("model mlp-3f2a version 1"), std::string::npos) << out;
    EXPECT_NE(out.find("T00 2024-01-02"), std::string::npos) << out;
    EXPECT_NE(out.find("skipped T07 2024-01-03T14:30:00Z halted \"news\""), std::string::npos) << out;
  }
}

TEST_F(MpiFileSinks, CsvHoldsTheGlobalSetInOrder) {
  const std::string path = temp_dir() + "/preds.csv";
  auto sink = make_csv_sink(path);
  sink->write(comm(), share(rank(), size()));
  if (rank() == 0) {
    check_csv(path, temp_dir() + "/preds.skipped.csv");
    EXPECT_EQ(dir_entries(temp_dir()), (std::vector<std::string>{"preds.csv", "preds.skipped.csv"}));
  }
}

TEST_F(MpiFileSinks, EmptySetsWriteEmptyFiles) {
  auto h5 = make_hdf5_sink(temp_dir() + "/empty.h5");
  h5->write(comm(), PredictionSet{});
  auto csv = make_csv_sink(temp_dir() + "/empty.csv");
  csv->write(comm(), PredictionSet{});
  if (rank() == 0) {
    h5::File f = h5::File::open(temp_dir() + "/empty.h5", false);
    EXPECT_TRUE(h5::read_strings(f.id(), "predictions/ticker").empty());
    EXPECT_TRUE(h5::read_strings(f.id(), "skipped/reason").empty());
    EXPECT_EQ(read_csv(temp_dir() + "/empty.csv").size(), 1u);
    EXPECT_EQ(read_csv(temp_dir() + "/empty.skipped.csv").size(), 1u);
  }
}

TEST_F(MpiFileSinks, BadTargetsAreInputErrorsOnEveryRank) {
  const std::string missing = temp_dir() + "/no-such-dir";
  EXPECT_THROW(make_hdf5_sink(missing + "/p.h5"), InputError);
  EXPECT_THROW(make_csv_sink(missing + "/p.csv"), InputError);
  EXPECT_THROW(make_hdf5_sink(temp_dir() + "/p.csv"), InputError);
  EXPECT_THROW(make_csv_sink(temp_dir() + "/p.h5"), InputError);
  if (geteuid() != 0) {  // root writes anywhere
    const std::string locked = temp_dir() + "/locked";
    if (rank() == 0) {
      fs::create_directory(locked);
      chmod(locked.c_str(), 0555);
    }
    comm().barrier();
    EXPECT_THROW(make_hdf5_sink(locked + "/p.h5"), InputError);
    EXPECT_THROW(make_csv_sink(locked + "/p.csv"), InputError);
    comm().barrier();
    if (rank() == 0) chmod(locked.c_str(), 0755);
  }
}

// The directory disappears between making the sink and writing: every rank ends with the same
// input error (exit code 2) and no file is left.
TEST_F(MpiFileSinks, FailedWriteEndsEveryRankAndLeavesNoFile) {
  const std::string sub = temp_dir() + "/gone";
  if (rank() == 0) fs::create_directory(sub);
  comm().barrier();
  auto h5 = make_hdf5_sink(sub + "/p.h5");
  auto csv = make_csv_sink(sub + "/p.csv");
  comm().barrier();
  if (rank() == 0) fs::remove(sub);
  comm().barrier();
  for (PredictionSink* sink : {h5.get(), csv.get()}) {
    try {
      sink->write(comm(), share(rank(), size()));
      ADD_FAILURE() << sink->describe() << " did not fail";
    } catch (const Error& e) {
      EXPECT_EQ(e.exit_code(), kExitInput) << e.what();
      EXPECT_NE(std::string(e.what()).find("--out"), std::string::npos) << e.what();
    }
  }
  if (rank() == 0) {
    EXPECT_TRUE(dir_entries(temp_dir()).empty());
  }
}

}  // namespace
}  // namespace tickstream
