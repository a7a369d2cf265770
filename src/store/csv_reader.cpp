// OHLCV CSV reader: header mapping, row validation, the rejection policy and per-ticker assembly.
#include "store/csv_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/bar_checks.hpp"
#include "store/byte_source.hpp"
#include "store/csv_fields.hpp"
#include "store/ticker_assembly.hpp"

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
    case RejectReason::NullValue: return "null_value";
    case RejectReason::WrongType: return "wrong_type";
    case RejectReason::CorruptFile: return "corrupt_file";
  }
  return "unknown";
}

std::string Rejection::message() const {
  std::string out = file;
  if (line > 0) out += row ? fmt::format(": row {}", line) : fmt::format(":{}", line);
  out += ':';
  if (!column.empty()) out += fmt::format(" column '{}':", column);
  out += ' ';
  out += reason_name(reason);
  if (!detail.empty()) out += fmt::format(": '{}'", detail);
  return out;
}

namespace {

constexpr size_t kMaxDetail = 80;
constexpr size_t kStreamBlock = size_t{4} << 20;  // decompressed bytes handed to the parser at a time

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

// Rows out, a block of whole lines at a time: the header (the first non-blank line, or given),
// then validated rows grouped by ticker.
class Reader {
 public:
  Reader(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns, bool piece)
      : file_index_(file_index), policy_(policy), columns_(columns), piece_(piece) {
    out_.path = path;
  }

  // A header read from elsewhere (a piece of a file): its lines are not counted.
  bool use_header(std::string_view line) { return map_columns(line, 0); }
  // The file has no header (a piece reports it for the whole file).
  void no_header() { reject(0, "", RejectReason::EmptyFile, "no header"), stopped_ = true; }
  // Parses whole lines (a block ends after a '\n' or at the end of the data). False once stopped.
  bool feed(std::string_view block);
  // A damaged compressed stream: the whole file is rejected (nothing of it kept).
  void corrupt(const std::string& reason);
  ParsedFile finish();

 private:
  bool map_columns(std::string_view line, int64_t n);
  bool parse_row(std::string_view line, int64_t n, Bar& bar, size_t& group);
  bool parse_numbers(int64_t n, Bar& bar);
  bool check_ranges(int64_t n, const Bar& bar);

  std::string_view field(Column c) const { return csv::trim(fields_[static_cast<size_t>(index_[c])]); }
  const std::string& column(Column c) const { return names_[static_cast<size_t>(index_[c])]; }
  std::string date_column() const { return index_.has(Column::Date) ? column(Column::Date) : "Date"; }
  // Records (Skip, or a piece under Fail) or throws (Fail) a rejection; returns false so callers
  // can `return reject(...)`.
  bool reject(int64_t line, std::string column, RejectReason reason, std::string detail);

  int32_t file_index_;
  OnError policy_;
  const ColumnMap& columns_;
  bool piece_;
  bool stopped_ = false;
  bool have_header_ = false;
  ParsedFile out_;
  std::vector<std::string> names_;  // header as written (unquoted, trimmed)
  ColumnIndex index_;
  char delimiter_ = ',';
  int64_t line_base_ = 0;  // lines in earlier blocks
  std::vector<std::string_view> fields_;
  std::string scratch_;
  std::optional<TickerAssembly> bars_;
  Bar bar_;
};

bool Reader::feed(std::string_view block) {
  out_.bytes += static_cast<int64_t>(block.size());
  if (line_base_ == 0 && !have_header_) block = csv::strip_bom(block);
  csv::LineScanner lines(block);
  std::string_view line;
  while (!stopped_ && lines.next(line)) {
    const int64_t n = line_base_ + lines.line_number();
    if (line.empty() || csv::is_blank(line)) continue;
    if (!have_header_) {
      if (!map_columns(line, n)) stopped_ = true;
      continue;
    }
    ++out_.rows_read;
    size_t group = 0;
    if (!parse_row(line, n, bar_, group)) continue;
    if (!bars_->reserved()) {  // guess the row count from the first row's length
      const size_t left = static_cast<size_t>(block.data() + block.size() - line.data());
      bars_->reserve(left / (line.size() + 1) * 9 / 8 + 16);
    }
    bar_.line = static_cast<int32_t>(n);
    bars_->add(bar_, group);
  }
  line_base_ += lines.line_number();
  return !stopped_;
}

bool Reader::map_columns(std::string_view line, int64_t n) {
  delimiter_ = csv::detect_delimiter(line);
  if (!csv::split_fields(line, delimiter_, fields_, scratch_)) {
    return reject(n, "", RejectReason::UnterminatedQuote, shorten(line));
  }
  for (const std::string_view f : fields_) names_.emplace_back(csv::trim(f));
  index_ = resolve_columns(names_, columns_);
  if (index_.missing) {
    const Column c = *index_.missing;
    const std::string& want = columns_.source[static_cast<size_t>(c)];
    return reject(n, std::string(want.empty() ? column_title(c) : want), RejectReason::MissingColumn,
                  "no such column in the header");
  }
  have_header_ = true;
  out_.has_adj_close = index_.has(Column::AdjClose);
  out_.layout = index_.has(Column::Ticker) ? CsvLayout::Long : CsvLayout::PerTicker;
  bars_.emplace(out_.layout == CsvLayout::Long ? "" : ticker_of_file(out_.path));
  bar_.file = file_index_;
  bar_.adj_close = std::numeric_limits<double>::quiet_NaN();
  return true;
}

bool Reader::parse_row(std::string_view line, int64_t n, Bar& bar, size_t& group) {
  if (!csv::split_fields(line, delimiter_, fields_, scratch_)) {
    return reject(n, "", RejectReason::UnterminatedQuote, shorten(line));
  }
  if (fields_.size() != names_.size()) {
    return reject(n, "", RejectReason::RaggedRow,
                  fmt::format("{} fields, the header has {}", fields_.size(), names_.size()));
  }
  const std::string_view date = field(Column::Date);
  const std::optional<std::string_view> time =
      index_.has(Column::Time) ? std::optional<std::string_view>(field(Column::Time)) : std::nullopt;
  const std::optional<int64_t> t = parse_bar_time(date, time, columns_);
  if (!t) {
    const bool time_bad = time && parse_bar_time(date, std::nullopt, columns_);
    return reject(n, column(time_bad ? Column::Time : Column::Date), RejectReason::BadDate,
                  shorten(time_bad ? *time : date));
  }
  bar.time = *t;
  if (out_.layout == CsvLayout::Long) {
    const std::string_view ticker = field(Column::Ticker);
    if (ticker.empty()) return reject(n, column(Column::Ticker), RejectReason::MissingColumn, "");
    group = bars_->group_for(ticker);
  }
  return parse_numbers(n, bar) && check_ranges(n, bar);
}

bool Reader::parse_numbers(int64_t n, Bar& bar) {
  const std::pair<Column, double*> targets[] = {{Column::Open, &bar.open},         {Column::High, &bar.high},
                                                {Column::Low, &bar.low},           {Column::Close, &bar.close},
                                                {Column::AdjClose, &bar.adj_close}, {Column::Volume, &bar.volume}};
  for (const auto& [c, target] : targets) {
    if (!index_.has(c)) continue;
    const std::string_view text = field(c);
    const csv::NumberStatus status = csv::parse_number(text, *target);
    if (status == csv::NumberStatus::NonNumeric) return reject(n, column(c), RejectReason::NonNumeric, shorten(text));
    if (status == csv::NumberStatus::NotFinite) return reject(n, column(c), RejectReason::NotFinite, shorten(text));
  }
  return true;
}

bool Reader::check_ranges(int64_t n, const Bar& bar) {
  const std::optional<BarProblem> problem = check_bar_ranges(bar, index_.has(Column::AdjClose));
  if (!problem) return true;
  const Column c = problem->column;
  const std::string_view text = field(c);
  switch (problem->reason) {
    case RejectReason::HighBelowLow:
      return reject(n, column(c), problem->reason,
                    fmt::format("high {} < low {}", field(Column::High), field(Column::Low)));
    case RejectReason::OpenCloseOutsideRange:
      return reject(n, column(c), problem->reason,
                    fmt::format("{} outside low {} .. high {}", text, field(Column::Low), field(Column::High)));
    default: return reject(n, column(c), problem->reason, shorten(text));
  }
}

void Reader::corrupt(const std::string& reason) {
  bars_.reset();
  reject(0, "", RejectReason::CorruptFile, shorten(reason));
  stopped_ = true;
}

ParsedFile Reader::finish() {
  out_.lines = line_base_;
  if (!have_header_ && !stopped_ && !piece_) reject(0, "", RejectReason::EmptyFile, "no header");
  if (!bars_ || (stopped_ && policy_ == OnError::Fail)) return std::move(out_);
  if (out_.rows_read == 0 && !piece_) {
    reject(0, "", RejectReason::EmptyFile, "header but no data rows");
    return std::move(out_);
  }
  std::vector<Rejection> dups = bars_->remove_duplicates(out_.path, date_column(), false);
  if (policy_ == OnError::Fail && !dups.empty()) {
    reject(dups.front().line, dups.front().column, dups.front().reason, dups.front().detail);
    return std::move(out_);
  }
  std::vector<Rejection>& all = out_.rejections;
  all.insert(all.end(), std::make_move_iterator(dups.begin()), std::make_move_iterator(dups.end()));
  std::stable_sort(all.begin(), all.end(), [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  out_.tickers = bars_->take();
  return std::move(out_);
}

bool Reader::reject(int64_t line, std::string column, RejectReason reason, std::string detail) {
  Rejection r{out_.path, line, std::move(column), reason, std::move(detail)};
  if (policy_ == OnError::Skip) {
    out_.rejections.push_back(std::move(r));
    return false;
  }
  if (line > 0 && bars_ && reason != RejectReason::DuplicateTimestamp) {  // a duplicate among earlier rows comes first
    std::vector<Rejection> dups = bars_->remove_duplicates(out_.path, date_column(), false);
    if (!dups.empty() && dups.front().line < line) r = std::move(dups.front());
  }
  if (!piece_) TS_INPUT_ERROR("{}", r.message());
  out_.rejections = {std::move(r)};
  stopped_ = true;
  return false;
}

// Closes a file descriptor on scope exit.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

int open_input(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) TS_INPUT_ERROR("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    TS_INPUT_ERROR("{}: {}", path, S_ISDIR(st.st_mode) ? "is a directory" : "cannot stat");
  }
  return fd;
}

// Appends bytes from `offset` until `stop(text)` says enough or the file ends; returns false at the end.
template <typename Stop>
bool read_until(int fd, const std::string& path, int64_t offset, std::string& text, Stop&& stop) {
  constexpr size_t kBlock = size_t{1} << 16;
  while (!stop(text)) {
    const size_t have = text.size();
    text.resize(have + kBlock);
    const ssize_t got = ::pread(fd, text.data() + have, kBlock, static_cast<off_t>(offset + have));
    if (got < 0 && errno == EINTR) {
      text.resize(have);
      continue;
    }
    if (got < 0) TS_INPUT_ERROR("{}: cannot read: {}", path, std::strerror(errno));
    text.resize(have + static_cast<size_t>(got));
    if (got == 0) return false;
  }
  return true;
}

// Reads [offset, offset + n) with pread(2) (short at the end of the file).
std::string read_range(int fd, const std::string& path, int64_t offset, int64_t n) {
  std::string text;
  text.reserve(static_cast<size_t>(n));
  read_until(fd, path, offset, text, [n](const std::string& t) { return static_cast<int64_t>(t.size()) >= n; });
  if (static_cast<int64_t>(text.size()) > n) text.resize(static_cast<size_t>(n));
  return text;
}

// The file's header line (its first non-blank line, BOM stripped) and the offset just past it;
// nullopt when the file has none.
struct HeaderLine {
  std::string text;
  int64_t end = 0;
};
std::optional<HeaderLine> read_header_line(int fd, const std::string& path) {
  std::string text;
  std::optional<HeaderLine> header;
  const auto found = [&header](const std::string& t) {
    const std::string_view v = csv::strip_bom(t);
    const auto skipped = static_cast<int64_t>(t.size() - v.size());
    for (size_t pos = 0, nl = v.find('\n'); nl != std::string_view::npos; pos = nl + 1, nl = v.find('\n', pos)) {
      std::string_view line = v.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (csv::is_blank(line)) continue;
      header = HeaderLine{std::string(line), skipped + static_cast<int64_t>(nl) + 1};
      return true;
    }
    return false;
  };
  if (!read_until(fd, path, 0, text, found)) {  // the end of the file: a last line without '\n'
    const std::string_view v = csv::strip_bom(text);
    const size_t last = v.rfind('\n') == std::string_view::npos ? 0 : v.rfind('\n') + 1;
    if (!csv::is_blank(v.substr(last))) header = HeaderLine{std::string(v.substr(last)), static_cast<int64_t>(text.size())};
  }
  return header;
}

// The lines of [begin, end): from the first line start at or after `begin` to the end of the
// line holding byte end - 1. `start` is set to the offset of the first line.
std::string read_piece_lines(int fd, const std::string& path, int64_t begin, int64_t end, int64_t& start) {
  start = 0;
  if (begin > 0) {
    std::string probe;
    read_until(fd, path, begin - 1, probe, [](const std::string& t) { return t.find('\n') != std::string::npos; });
    const size_t nl = probe.find('\n');
    if (nl == std::string::npos) return "";
    start = begin + static_cast<int64_t>(nl);
  }
  if (start >= end) return "";
  std::string text = read_range(fd, path, start, end - start);
  if (static_cast<int64_t>(text.size()) < end - start || text.back() == '\n') return text;
  const auto first_after = static_cast<size_t>(end - start);  // the rest of the line holding byte end - 1
  read_until(fd, path, start, text, [&](const std::string& t) { return t.find('\n', first_after) != std::string::npos; });
  const size_t nl = text.find('\n', first_after);
  if (nl != std::string::npos) text.resize(nl + 1);
  return text;
}

// The bytes of a file, read with read(2) into one buffer of its size. Not mmap: mapping and
// unmapping thousands of small files costs page faults plus TLB-shootdown interrupts on every
// core, which stopped two ranks from scaling (measured in bench/results/ingest-*.json).
std::string read_file_text(const std::string& path) {
  const int fd = open_input(path);
  const FdCloser closer{fd};
  struct stat st {};
  std::string text(::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0, '\0');
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

// Streams a compressed file through the reader a block of whole lines at a time.
void feed_stream(Reader& reader, ByteSource& source) {
  std::string block;
  size_t have = 0;
  while (true) {
    block.resize(have + kStreamBlock);
    const size_t got = source.read(block.data() + have, kStreamBlock);
    have += got;
    size_t cut = have;  // at the end: all that is left
    if (got > 0) {
      const size_t nl = std::string_view(block.data(), have).rfind('\n');
      cut = nl == std::string_view::npos ? 0 : nl + 1;
    }
    if (cut > 0 && !reader.feed(std::string_view(block.data(), cut))) return;
    if (got == 0) return;
    block.erase(0, cut);
    have -= cut;
  }
}

}  // namespace

ParsedFile parse_csv_file(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns) {
  Reader reader(path, file_index, policy, columns, false);
  if (compression_of(path) == Compression::None) {
    reader.feed(read_file_text(path));
    return reader.finish();
  }
  const std::unique_ptr<ByteSource> source = open_byte_source(path);
  try {
    feed_stream(reader, *source);
  } catch (const CorruptStream& e) {
    reader.corrupt(e.what());
  }
  return reader.finish();
}

ParsedFile parse_csv_text(const std::string& text, const std::string& path, int32_t file_index, OnError policy,
                          const ColumnMap& columns) {
  Reader reader(path, file_index, policy, columns, false);
  reader.feed(text);
  return reader.finish();
}

ParsedFile parse_csv_piece(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns,
                           int64_t begin, int64_t end) {
  Reader reader(path, file_index, policy, columns, true);
  const int fd = open_input(path);
  const FdCloser closer{fd};
  int64_t start = 0;
  const std::string text = read_piece_lines(fd, path, begin, end, start);
  const std::optional<HeaderLine> header = read_header_line(fd, path);
  if (!header) {  // the first piece speaks for the file
    if (begin == 0) reader.no_header();
    return reader.finish();
  }
  // A piece after the header takes it from the file's start; the piece holding it reads it itself
  // (the lines before it are blank).
  if (start >= header->end && !reader.use_header(header->text)) return reader.finish();
  reader.feed(text);
  return reader.finish();
}

}  // namespace tickstream
