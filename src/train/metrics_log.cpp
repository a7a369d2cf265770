// Training progress line, metrics .jsonl records and the fsync'ed append-only MetricsLog.
#include "train/metrics_log.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"

namespace tickstream {
namespace {

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// InputError "PATH: WHAT: strerror(errno)".
[[noreturn]] void throw_io(const std::string& path, const char* what, int err) {
  TS_INPUT_ERROR("{}: {}: {}", path, what, std::strerror(err));
}

// Cuts a torn last line (no trailing newline: a crash mid-write) off an existing log, so that
// appending resumes at a line boundary.
void drop_torn_line(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io(path, "cannot read", errno);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty() || text.back() == '\n') return;
  const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  std::filesystem::resize_file(path, keep, ec);
  if (ec) TS_INPUT_ERROR("{}: cannot drop its torn last line: {}", path, ec.message());
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "?";
  const long long total = std::llround(seconds);
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0) return fmt::format("{}h{:02}m{:02}s", h, m, s);
  if (m > 0) return fmt::format("{}m{:02}s", m, s);
  return fmt::format("{}s", s);
}

std::string format_progress(const ProgressRecord& r) {
  const int64_t done = r.step - r.first_step;
  std::string eta = "?";
  if (done > 0 && r.wall_s > 0.0) {
    const int64_t remaining = std::max<int64_t>(r.total_steps - r.step, 0);
    eta = format_duration(r.wall_s / static_cast<double>(done) * static_cast<double>(remaining));
  }
  return fmt::format("step {}/{}  epoch {}  loss {:.4g}  lr {:.1e}  {:.0f} samples/s  ETA {}",
                     r.step, r.total_steps, r.epoch, r.loss, r.lr, r.samples_per_s, eta);
}

nlohmann::json metrics_record(const ProgressRecord& progress, const EvalMetrics& metrics,
                              double val_loss) {
  nlohmann::json j = nlohmann::json::object();
  j["step"] = progress.step;
  j["epoch"] = progress.epoch;
  j["loss"] = number_or_null(progress.loss);
  j["lr"] = number_or_null(progress.lr);
  j["samples_per_s"] = number_or_null(progress.samples_per_s);
  j["val_loss"] = number_or_null(val_loss);
  j["val_dir_acc"] = number_or_null(metrics.dir_acc);
  j["val_ic"] = number_or_null(metrics.ic);
  j["val_rank_ic"] = number_or_null(metrics.rank_ic);
  j["val_icir"] = number_or_null(metrics.icir);
  j["wall_s"] = number_or_null(progress.wall_s);
  return j;
}

MetricsLog::MetricsLog(std::string path, bool append) : path_(std::move(path)) {
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) TS_INPUT_ERROR("{}: cannot create directory {}: {}", path_, parent.string(), ec.message());
  }
  if (append) drop_torn_line(path_);
  file_.reset(std::fopen(path_.c_str(), append ? "a" : "w"));
  if (!file_) throw_io(path_, "cannot open for writing", errno);
}

void MetricsLog::write(const nlohmann::json& record) {
  TS_CHECK(file_, "{}: write after close", path_);
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size())
    throw_io(path_, "cannot write", errno);
  if (std::fflush(file_.get()) != 0) throw_io(path_, "cannot flush", errno);
  // EINVAL: a special file (e.g. /dev/null) that cannot be synced; nothing is lost.
  if (fsync(fileno(file_.get())) != 0 && errno != EINVAL) throw_io(path_, "cannot fsync", errno);
}

void MetricsLog::close() {
  if (!file_) return;
  if (std::fclose(file_.release()) != 0) throw_io(path_, "cannot close", errno);
}

}  // namespace tickstream
