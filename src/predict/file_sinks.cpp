// The CSV prediction sink, and the --out checks and row plan shared with the HDF5 sink.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "runtime/temp_files.hpp"
#include "core/time.hpp"
#include "store/file_util.hpp"
#include "predict/file_sink_plan.hpp"
#include "predict/prediction.hpp"
#include "comm/agreement.hpp"

namespace tickstream {

void check_file_target(const std::string& path, const std::vector<std::string>& exts) {
  namespace fs = std::filesystem;
  const std::string ext = fs::path(path).extension().string();
  TS_REQUIRE_INPUT(std::find(exts.begin(), exts.end(), ext) != exts.end(),
                   "--out {}: expected a file ending in {}", path, fmt::join(exts, " or "));
  const fs::path parent = fs::absolute(path).parent_path();
  TS_REQUIRE_INPUT(fs::is_directory(parent), "--out {}: directory {} does not exist", path,
                   parent.string());
  TS_REQUIRE_INPUT(access(parent.c_str(), W_OK | X_OK) == 0, "--out {}: directory {} is not writable",
                   path, parent.string());
  TS_REQUIRE_INPUT(!fs::is_directory(path), "--out {}: is a directory, expected a file path", path);
}

int64_t RowPlan::local_begin(size_t d) const {
  int64_t n = 0;
  for (size_t e = 0; e < d; ++e) n += count(rank, e);
  return n;
}

int64_t RowPlan::file_offset(size_t d) const {
  int64_t n = 0;
  for (size_t e = 0; e < d; ++e)
    for (int r = 0; r < size; ++r) n += count(r, e);
  for (int r = 0; r < rank; ++r) n += count(r, d);
  return n;
}

RowPlan plan_rows(comm::Communicator& comm, const std::vector<int64_t>& mine) {
  run_agreed(comm, [&] {
    TS_CHECK(std::is_sorted(mine.begin(), mine.end()),
             "prediction rows of rank {} are not grouped by ascending as-of time", comm.rank());
  });
  RowPlan plan;
  plan.rank = comm.rank();
  plan.size = comm.size();
  std::vector<int64_t> distinct = mine;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  plan.asofs = comm::allgatherv(comm, distinct);
  std::sort(plan.asofs.begin(), plan.asofs.end());
  plan.asofs.erase(std::unique(plan.asofs.begin(), plan.asofs.end()), plan.asofs.end());
  std::vector<int64_t> my_counts(plan.asofs.size(), 0);
  for (int64_t t : mine) {
    const auto it = std::lower_bound(plan.asofs.begin(), plan.asofs.end(), t);
    ++my_counts[static_cast<size_t>(it - plan.asofs.begin())];
  }
  plan.counts = comm::allgatherv(comm, my_counts);
  plan.total = static_cast<int64_t>(mine.size());
  plan.total = comm::allreduce<int64_t>(comm, plan.total, comm::ReduceOp::sum);
  return plan;
}

namespace {

// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// This rank's rows as CSV lines, and the byte length of its lines at each as-of of `plan`.
template <typename Row, typename Format>
std::string rows_text(const std::vector<Row>& rows, const RowPlan& plan, const Format& format,
                      std::vector<int64_t>& bytes) {
  std::string text;
  bytes.assign(plan.asofs.size(), 0);
  size_t d = 0;
  for (const Row& row : rows) {
    while (plan.asofs[d] != row.asof) ++d;
    const size_t before = text.size();
    text += format(row);
    bytes[d] += static_cast<int64_t>(text.size() - before);
  }
  return text;
}

// Rank 0 gets every rank's text, rearranged into (as-of, rank) order; the others get "".
std::string gather_ordered(comm::Communicator& comm, const std::string& mine, const std::vector<int64_t>& bytes,
                           const RowPlan& plan) {
  const std::vector<int64_t> all_bytes = comm::allgatherv(comm, bytes);
  const size_t dates = plan.asofs.size();
  std::vector<int64_t> displs(static_cast<size_t>(plan.size));
  int64_t total = 0;
  for (int r = 0; r < plan.size; ++r) {
    displs[static_cast<size_t>(r)] = total;
    for (size_t d = 0; d < dates; ++d) total += all_bytes[static_cast<size_t>(r) * dates + d];
  }
  const std::vector<char> gathered = comm::gatherv(comm, std::vector<char>(mine.begin(), mine.end()), 0);
  if (plan.rank != 0) return {};
  const std::string all(gathered.begin(), gathered.end());
  std::string ordered;
  ordered.reserve(all.size());
  for (size_t d = 0; d < dates; ++d)
    for (int r = 0; r < plan.size; ++r) {
      int64_t begin = displs[static_cast<size_t>(r)];
      for (size_t e = 0; e < d; ++e) begin += all_bytes[static_cast<size_t>(r) * dates + e];
      ordered.append(all, static_cast<size_t>(begin),
                     static_cast<size_t>(all_bytes[static_cast<size_t>(r) * dates + d]));
    }
  return ordered;
}

std::string prediction_line(const Prediction& p) {
  return fmt::format("{},{},{},{},{},{},{}\n", csv_field(p.ticker), format_timestamp(p.asof),
                     p.pred_return, p.prob_up, p.confidence, p.rank, csv_field(p.model_id));
}

std::string skipped_line(const Skipped& s) {
  return fmt::format("{},{},{}\n", csv_field(s.ticker), format_timestamp(s.asof), csv_field(s.reason));
}

// Writes `text` to `temp`, checked; InputError naming --out otherwise.
void write_temp(const std::string& out, const std::string& temp, const std::string& text) {
  std::ofstream f(temp, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.close();
  if (f.good()) return;
  const int err = errno;
  if (is_out_of_space(err)) TS_INPUT_ERROR("--out {}: cannot write {}: {}", out, temp, out_of_space_reason(temp));
  TS_INPUT_ERROR("--out {}: cannot write {} ({})", out, temp, std::strerror(err ? err : EIO));
}

// Both files under temp names, then renamed (skipped file first); nothing is left on failure.
void write_pair(const std::string& out, const std::string& skipped_path, const std::string& preds,
                const std::string& skipped) {
  const std::string tmp_p = fmt::format("{}.tmp-{}", out, getpid());
  const std::string tmp_s = fmt::format("{}.tmp-{}", skipped_path, getpid());
  const TempFileGuard guard_p(tmp_p), guard_s(tmp_s);
  try {
    write_temp(out, tmp_p, preds);
    write_temp(out, tmp_s, skipped);
    std::filesystem::rename(tmp_s, skipped_path);
    try {
      std::filesystem::rename(tmp_p, out);
    } catch (...) {
      std::remove(skipped_path.c_str());
      throw;
    }
  } catch (const std::filesystem::filesystem_error& e) {
    std::remove(tmp_p.c_str());
    std::remove(tmp_s.c_str());
    TS_INPUT_ERROR("--out {}: {}", out, e.what());
  } catch (...) {
    std::remove(tmp_p.c_str());
    std::remove(tmp_s.c_str());
    throw;
  }
}

// One file of predictions and a sibling `<stem>.skipped.csv`, rows in (as-of, ticker) order.
// Gathered to rank 0, which writes both (predictions are small: 100k tickers x ~80 bytes).
class CsvSink : public PredictionSink {
 public:
  explicit CsvSink(std::string path) : path_(std::move(path)) {
    check_file_target(path_, {".csv"});
    skipped_path_ = std::filesystem::path(path_).replace_extension(".skipped.csv").string();
  }

  void write(comm::Communicator& comm, const PredictionSet& mine) override {
    run_agreed(comm, [&] { check_file_target(path_, {".csv"}); });
    const std::string preds = gather_rows(comm, mine.rows, prediction_line);
    const std::string skipped = gather_rows(comm, mine.skipped, skipped_line);
    run_agreed(comm, [&] {
      if (comm.rank() != 0) return;
      write_pair(path_, skipped_path_, "ticker,asof,pred_return,prob_up,confidence,rank,model_id\n" + preds,
                 "ticker,asof,reason\n" + skipped);
    });
  }

  std::string describe() const override { return fmt::format("CSV {} (+ {})", path_, skipped_path_); }

 private:
  template <typename Row, typename Format>
  static std::string gather_rows(comm::Communicator& comm, const std::vector<Row>& rows, const Format& format) {
    std::vector<int64_t> asofs;
    for (const Row& r : rows) asofs.push_back(r.asof);
    const RowPlan plan = plan_rows(comm, asofs);
    std::vector<int64_t> bytes;
    const std::string text = rows_text(rows, plan, format, bytes);
    return gather_ordered(comm, text, bytes, plan);
  }

  std::string path_;
  std::string skipped_path_;
};

}  // namespace

std::unique_ptr<PredictionSink> make_csv_sink(const std::string& path) {
  return std::make_unique<CsvSink>(path);
}

}  // namespace tickstream

namespace tickstream {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::unique_ptr<PredictionSink> make_sink(const std::string& target) {
  if (target.rfind("postgresql://", 0) == 0 || target.rfind("postgres://", 0) == 0) return make_postgres_sink(target);
  if (ends_with(target, ".h5") || ends_with(target, ".hdf5")) return make_hdf5_sink(target);
  if (ends_with(target, ".csv")) return make_csv_sink(target);
  TS_INPUT_ERROR("--out {}: expected a .h5, .hdf5 or .csv file, or a postgresql:// connection URI", target);
}

}  // namespace tickstream
