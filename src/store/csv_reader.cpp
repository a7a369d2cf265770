// OHLCV CSV reader: header mapping, row validation, the rejection policy and per-ticker assembly.
#include "store/csv_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <unordered_map>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/csv_fields.hpp"

namespace tickstream {

std::string_view reason_name(RejectReason r) {
  switch (r) {
    case RejectReason::NonNumeric: return "non_numeric";
    case RejectReason::NotFinite: return "not_finite";
    case RejectReason::NonPositivePrice: return "non_positive_price";
    case RejectReason::HighBelowLow: return "high_below_low";
    case RejectReason::OpenCloseOutsideRange: return "open_close_outside_range";
    case RejectReason::NegativeVolume: return "negative_volume";
    case RejectReason::DuplicateTimestamp: return "duplicate_timestamp";
    case RejectReason::BadDate: return "bad_date";
    case RejectReason::MissingColumn: return "missing_column";
    case RejectReason::RaggedRow: return "ragged_row";
    case RejectReason::EmptyFile: return "empty_file";
    case RejectReason::UnterminatedQuote: return "unterminated_quote";
  }
  return "unknown";
}

std::string Rejection::message() const {
  std::string out = file;
  if (line > 0) out += fmt::format(":{}", line);
  out += ':';
  if (!column.empty()) out += fmt::format(" column '{}':", column);
  out += ' ';
  out += reason_name(reason);
  if (!detail.empty()) out += fmt::format(": '{}'", detail);
  return out;
}

namespace {

// Column roles; the numeric ones are checked in this order.
enum Role { kDate, kTicker, kOpen, kHigh, kLow, kClose, kAdjClose, kVolume, kRoleCount };
constexpr const char* kCanonicalName[kRoleCount] = {"Date", "Ticker", "Open",      "High",
                                                    "Low",  "Close",  "Adj Close", "Volume"};
constexpr size_t kMaxDetail = 80;

std::optional<Role> role_of(const std::string& name) {
  if (name == "date" || name == "datetime" || name == "timestamp" || name == "time") return kDate;
  if (name == "ticker" || name == "symbol") return kTicker;
  if (name == "open") return kOpen;
  if (name == "high") return kHigh;
  if (name == "low") return kLow;
  if (name == "close") return kClose;
  if (name == "adj close" || name == "adj_close" || name == "adjclose" || name == "adj. close")
    return kAdjClose;
  if (name == "volume") return kVolume;
  return std::nullopt;
}

// The detail of a message: at most kMaxDetail bytes, control bytes (NUL, CR, ...) as \xNN so that a
// message stays one printable line (what() is a C string: an embedded NUL would cut it short).
std::string shorten(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxDetail)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) out += fmt::format("\\x{:02x}", byte);
    else out += c;
  }
  return text.size() <= kMaxDetail ? out : out + "...";
}

struct Header {
  std::vector<std::string> names;  // as written (unquoted, trimmed)
  int index[kRoleCount] = {-1, -1, -1, -1, -1, -1, -1, -1};
  char delimiter = ',';
  int64_t line = 0;
};

// Reserves room for n bars. Large reservations ask for transparent huge pages: first-touch page
// faults otherwise cost as much as the parsing itself (measured on a VM: 200 vs 440 MB/s).
void reserve_bars(std::vector<Bar>& bars, size_t n) {
  bars.reserve(n);
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<uintptr_t>(bars.data());
  const uintptr_t end = begin + bars.capacity() * sizeof(Bar);
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t last = end & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

// Sorts bars by time, keeping the file order of equal times.
void sort_by_time(std::vector<Bar>& bars) {
  const auto earlier = [](const Bar& a, const Bar& b) { return a.time < b.time; };
  if (std::is_sorted(bars.begin(), bars.end(), earlier)) return;
  const auto not_later = [](const Bar& a, const Bar& b) { return a.time <= b.time; };
  if (std::adjacent_find(bars.begin(), bars.end(), not_later) == bars.end()) {
    std::reverse(bars.begin(), bars.end());  // strictly descending, e.g. a yfinance export
    return;
  }
  std::stable_sort(bars.begin(), bars.end(), earlier);
}

class Reader {
 public:
  Reader(std::string_view text, const std::string& path, int32_t file_index, OnError policy)
      : text_(csv::strip_bom(text)), file_index_(file_index), policy_(policy) {
    out_.path = path;
    out_.bytes = static_cast<int64_t>(text.size());
  }

  ParsedFile run();

 private:
  bool read_header(csv::LineScanner& lines);
  bool map_columns(std::string_view line);
  void read_rows(csv::LineScanner& lines);
  bool parse_row(std::string_view line, int64_t n, Bar& bar, size_t& group);
  bool parse_numbers(int64_t n, Bar& bar);
  bool check_ranges(int64_t n, const Bar& bar);
  size_t group_for(std::string_view ticker);
  void distribute();
  std::vector<Rejection> remove_duplicates();
  void finish();

  std::string_view field(Role role) const { return csv::trim(fields_[header_.index[role]]); }
  const std::string& column(Role role) const { return header_.names[header_.index[role]]; }
  // Records (Skip) or throws (Fail) a rejection; returns false so callers can `return reject(...)`.
  bool reject(int64_t line, std::string column, RejectReason reason, std::string detail);

  std::string_view text_;
  int32_t file_index_;
  OnError policy_;
  ParsedFile out_;
  Header header_;
  std::vector<std::string_view> fields_;
  std::string scratch_;
  std::vector<TickerBars> groups_;
  std::vector<Bar> flat_;               // long format: accepted bars in file order
  std::vector<uint32_t> flat_group_;    // and the group of each
  std::unordered_map<std::string, size_t> group_index_;
  std::string key_;
  size_t last_group_ = 0;
};

ParsedFile Reader::run() {
  csv::LineScanner lines(text_);
  if (!read_header(lines)) return std::move(out_);
  if (out_.layout == CsvLayout::PerTicker) {
    groups_.push_back(TickerBars{std::filesystem::path(out_.path).stem().string(), {}});
  }
  read_rows(lines);
  if (out_.rows_read == 0) {
    reject(0, "", RejectReason::EmptyFile, "header but no data rows");
    return std::move(out_);
  }
  finish();
  return std::move(out_);
}

bool Reader::read_header(csv::LineScanner& lines) {
  std::string_view line;
  while (lines.next(line)) {
    if (!csv::is_blank(line)) {
      header_.line = lines.line_number();
      return map_columns(line);
    }
  }
  return reject(0, "", RejectReason::EmptyFile, "no header");
}

bool Reader::map_columns(std::string_view line) {
  header_.delimiter = csv::detect_delimiter(line);
  if (!csv::split_fields(line, header_.delimiter, fields_, scratch_)) {
    return reject(header_.line, "", RejectReason::UnterminatedQuote, shorten(line));
  }
  for (size_t i = 0; i < fields_.size(); ++i) {
    header_.names.emplace_back(csv::trim(fields_[i]));
    const std::optional<Role> role = role_of(csv::normalize_name(fields_[i]));
    if (role && header_.index[*role] < 0) header_.index[*role] = static_cast<int>(i);
  }
  for (const Role role : {kDate, kOpen, kHigh, kLow, kClose, kVolume}) {
    if (header_.index[role] < 0) {
      return reject(header_.line, kCanonicalName[role], RejectReason::MissingColumn,
                    "no such column in the header");
    }
  }
  out_.has_adj_close = header_.index[kAdjClose] >= 0;
  out_.layout = header_.index[kTicker] >= 0 ? CsvLayout::Long : CsvLayout::PerTicker;
  return true;
}

void Reader::read_rows(csv::LineScanner& lines) {
  // Per-ticker bars go straight to their group; long-format bars are collected in file order and
  // distributed once at the end (growing hundreds of vectors row by row costs more).
  const bool long_layout = out_.layout == CsvLayout::Long;
  std::vector<Bar>& sink = long_layout ? flat_ : groups_[0].bars;
  std::string_view line;
  Bar bar;
  bar.file = file_index_;
  bar.adj_close = std::numeric_limits<double>::quiet_NaN();
  while (lines.next(line)) {
    if (line.empty() || csv::is_blank(line)) continue;
    ++out_.rows_read;
    const int64_t n = lines.line_number();
    size_t group = 0;
    if (!parse_row(line, n, bar, group)) continue;
    if (sink.capacity() == 0) {  // guess the row count from the first row's length
      const size_t left = static_cast<size_t>(text_.data() + text_.size() - line.data());
      const size_t rows = left / (line.size() + 1) * 9 / 8 + 16;
      reserve_bars(sink, rows);
      if (long_layout) flat_group_.reserve(rows);
    }
    bar.line = static_cast<int32_t>(n);
    sink.push_back(bar);
    if (long_layout) flat_group_.push_back(static_cast<uint32_t>(group));
  }
}

// Long format: moves the bars collected in file order into their tickers' groups.
void Reader::distribute() {
  if (flat_.empty()) return;
  std::vector<size_t> counts(groups_.size(), 0);
  for (const uint32_t g : flat_group_) ++counts[g];
  for (size_t g = 0; g < groups_.size(); ++g) groups_[g].bars.reserve(counts[g]);
  for (size_t i = 0; i < flat_.size(); ++i) groups_[flat_group_[i]].bars.push_back(flat_[i]);
  flat_ = {};
  flat_group_ = {};
}

bool Reader::parse_row(std::string_view line, int64_t n, Bar& bar, size_t& group) {
  if (!csv::split_fields(line, header_.delimiter, fields_, scratch_)) {
    return reject(n, "", RejectReason::UnterminatedQuote, shorten(line));
  }
  if (fields_.size() != header_.names.size()) {
    return reject(n, "", RejectReason::RaggedRow,
                  fmt::format("{} fields, the header has {}", fields_.size(),
                              header_.names.size()));
  }
  const std::string_view date = field(kDate);
  const std::optional<int64_t> time = parse_timestamp(date);
  if (!time) return reject(n, column(kDate), RejectReason::BadDate, shorten(date));
  bar.time = *time;
  if (out_.layout == CsvLayout::Long) {
    const std::string_view ticker = field(kTicker);
    if (ticker.empty()) return reject(n, column(kTicker), RejectReason::MissingColumn, "");
    group = group_for(ticker);
  }
  return parse_numbers(n, bar) && check_ranges(n, bar);
}

bool Reader::parse_numbers(int64_t n, Bar& bar) {
  double* const targets[kRoleCount] = {nullptr,     nullptr,    &bar.open,      &bar.high,
                                       &bar.low,    &bar.close, &bar.adj_close, &bar.volume};
  for (int r = kOpen; r < kRoleCount; ++r) {
    const Role role = static_cast<Role>(r);
    if (header_.index[role] < 0) continue;
    const std::string_view text = field(role);
    const csv::NumberStatus status = csv::parse_number(text, *targets[role]);
    if (status == csv::NumberStatus::NonNumeric) {
      return reject(n, column(role), RejectReason::NonNumeric, shorten(text));
    }
    if (status == csv::NumberStatus::NotFinite) {
      return reject(n, column(role), RejectReason::NotFinite, shorten(text));
    }
  }
  return true;
}

bool Reader::check_ranges(int64_t n, const Bar& bar) {
  const double prices[] = {bar.open, bar.high, bar.low, bar.close, bar.adj_close};
  for (int r = kOpen; r <= kAdjClose; ++r) {
    const Role role = static_cast<Role>(r);
    if (header_.index[role] >= 0 && !(prices[r - kOpen] > 0)) {
      return reject(n, column(role), RejectReason::NonPositivePrice, shorten(field(role)));
    }
  }
  if (bar.high < bar.low) {
    return reject(n, column(kHigh), RejectReason::HighBelowLow,
                  fmt::format("high {} < low {}", field(kHigh), field(kLow)));
  }
  const double lo = bar.low * (1 - kRangeTolerance);
  const double hi = bar.high * (1 + kRangeTolerance);
  for (const Role role : {kOpen, kClose}) {
    const double v = role == kOpen ? bar.open : bar.close;
    if (v < lo || v > hi) {
      return reject(n, column(role), RejectReason::OpenCloseOutsideRange,
                    fmt::format("{} outside low {} .. high {}", field(role), field(kLow),
                                field(kHigh)));
    }
  }
  if (bar.volume < 0) {
    return reject(n, column(kVolume), RejectReason::NegativeVolume, shorten(field(kVolume)));
  }
  return true;
}

size_t Reader::group_for(std::string_view ticker) {
  if (last_group_ < groups_.size() && groups_[last_group_].ticker == ticker) return last_group_;
  key_.assign(ticker.data(), ticker.size());
  const auto [it, inserted] = group_index_.try_emplace(key_, groups_.size());
  if (inserted) groups_.push_back(TickerBars{key_, {}});
  last_group_ = it->second;
  return last_group_;
}

// Sorts every ticker's bars by time and drops repeated times (the first line of a time wins).
// Returns the rejections of the dropped bars in line order.
std::vector<Rejection> Reader::remove_duplicates() {
  distribute();
  std::vector<Rejection> dups;
  for (TickerBars& group : groups_) {
    std::vector<Bar>& bars = group.bars;
    sort_by_time(bars);
    size_t kept = 0;
    for (size_t i = 0; i < bars.size(); ++i) {
      if (kept > 0 && bars[i].time == bars[kept - 1].time) {
        dups.push_back(Rejection{out_.path, bars[i].line, column(kDate),
                                 RejectReason::DuplicateTimestamp,
                                 fmt::format("{} already on line {}",
                                             format_timestamp(bars[i].time),
                                             bars[kept - 1].line)});
        continue;
      }
      bars[kept++] = bars[i];
    }
    bars.resize(kept);
  }
  std::stable_sort(dups.begin(), dups.end(),
                   [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  return dups;
}

void Reader::finish() {
  std::vector<Rejection> dups = remove_duplicates();
  if (policy_ == OnError::Fail && !dups.empty()) TS_INPUT_ERROR("{}", dups.front().message());
  std::vector<Rejection>& all = out_.rejections;
  all.insert(all.end(), std::make_move_iterator(dups.begin()), std::make_move_iterator(dups.end()));
  std::stable_sort(all.begin(), all.end(),
                   [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  for (TickerBars& group : groups_) {
    if (!group.bars.empty()) out_.tickers.push_back(std::move(group));
  }
  std::sort(out_.tickers.begin(), out_.tickers.end(),
            [](const TickerBars& a, const TickerBars& b) { return a.ticker < b.ticker; });
}

bool Reader::reject(int64_t line, std::string column, RejectReason reason, std::string detail) {
  Rejection r{out_.path, line, std::move(column), reason, std::move(detail)};
  if (policy_ == OnError::Skip) {
    out_.rejections.push_back(std::move(r));
    return false;
  }
  if (line > 0 && !groups_.empty()) {  // a duplicate among earlier rows comes first
    const std::vector<Rejection> dups = remove_duplicates();
    if (!dups.empty() && dups.front().line < line) TS_INPUT_ERROR("{}", dups.front().message());
  }
  TS_INPUT_ERROR("{}", r.message());
}

// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// The bytes of a file, read with read(2). Not mmap: mapping and unmapping thousands of small
// files costs page faults plus TLB-shootdown interrupts on every core, which stopped two ranks
// from scaling (measured in bench/results/ingest-*.json).
std::string read_file_text(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) TS_INPUT_ERROR("{}: cannot open: {}", path, std::strerror(errno));
  const FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) TS_INPUT_ERROR("{}: cannot stat: {}", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) TS_INPUT_ERROR("{}: is a directory", path);
  std::string text(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0, '\0');
  size_t have = 0;
  while (true) {
    if (have == text.size()) text.resize(std::max<size_t>(2 * text.size(), 1 << 16));
    const ssize_t got = ::read(fd, text.data() + have, text.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) TS_INPUT_ERROR("{}: cannot read: {}", path, std::strerror(errno));
    if (got == 0) break;
    have += static_cast<size_t>(got);
  }
  text.resize(have);
  return text;
}

}  // namespace

ParsedFile parse_csv_file(const std::string& path, int32_t file_index, OnError policy) {
  const std::string text = read_file_text(path);
  return Reader(text, path, file_index, policy).run();
}

ParsedFile parse_csv_text(const std::string& text, const std::string& path, int32_t file_index,
                          OnError policy) {
  return Reader(text, path, file_index, policy).run();
}

}  // namespace tickstream
