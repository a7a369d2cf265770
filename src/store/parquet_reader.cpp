// Parquet reader: the mapped columns of the selected row groups, read as Arrow record batches and
// decoded column by column into plain arrays, then validated row by row like the CSV reader.
#include "store/parquet_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <arrow/array.h>
#include <arrow/io/file.h>
#include <arrow/record_batch.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <arrow/util/decimal.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>

#include "core/error.hpp"
#include "store/bar_checks.hpp"
#include "store/byte_source.hpp"
#include "store/ticker_assembly.hpp"

namespace tickstream {
namespace {

// Rows per record batch: large enough that Arrow's per-batch costs vanish, small enough that a
// batch's decoded columns (~64k x 8 bytes each) stay in cache.
constexpr int64_t kBatchRows = 64 * 1024;
constexpr size_t kMaxDetail = 120;
constexpr int64_t kNoGroup = -1;  // the group of an empty (or null) ticker
// An integer date no unit makes a bar time of: a uint64 beyond int64, or INT64_MIN itself (the
// NaT of pandas and Arrow's timestamp casts, which would otherwise read as 1677-09-21 in ns).
constexpr int64_t kOutOfRange = std::numeric_limits<int64_t>::min();

// The numeric columns, in the order their values are checked (as the CSV reader does).
constexpr std::array<Column, 6> kNumbers = {Column::Open,  Column::High,     Column::Low,
                                            Column::Close, Column::AdjClose, Column::Volume};

size_t slot(Column c) { return static_cast<size_t>(c); }

// An Arrow message as a one-line detail: Arrow's messages run over several lines and can be long.
std::string shorten(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out;
  for (const char c : text.substr(0, kMaxDetail)) out += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
  return text.size() <= kMaxDetail ? out : out + "...";
}

// ------------------------------------------------------------------------------ column types

bool is_number(arrow::Type::type id) {
  return arrow::is_integer(id) || id == arrow::Type::FLOAT || id == arrow::Type::DOUBLE ||
         id == arrow::Type::DECIMAL128;
}

bool is_plain_text(arrow::Type::type id) { return id == arrow::Type::STRING || id == arrow::Type::LARGE_STRING; }

bool is_text(const arrow::DataType& type) {
  if (is_plain_text(type.id())) return true;
  if (type.id() != arrow::Type::DICTIONARY) return false;
  return is_plain_text(static_cast<const arrow::DictionaryType&>(type).value_type()->id());
}

// Types that are an instant by themselves (the date column needs no date_format).
bool is_instant(arrow::Type::type id) {
  return id == arrow::Type::TIMESTAMP || id == arrow::Type::DATE32 || id == arrow::Type::DATE64;
}

bool is_epoch(DateFormat f) { return f != DateFormat::Auto && f != DateFormat::Yyyymmdd; }

DateFormat unit_format(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return DateFormat::EpochSeconds;
    case arrow::TimeUnit::MILLI: return DateFormat::EpochMillis;
    case arrow::TimeUnit::MICRO: return DateFormat::EpochMicros;
    case arrow::TimeUnit::NANO: return DateFormat::EpochNanos;
  }
  return DateFormat::EpochSeconds;
}

// How the date column's values become bar times.
enum class DateKind {
  Epoch,  // an integer count since 1970 in `unit` (timestamp, date32 as seconds, date64, epoch integers)
  Text,   // text (or integers written as text) for parse_bar_time, with the time column when mapped
};

// ------------------------------------------------------------------------- batch decoding

// An integer array widened to int64. uint64 values beyond int64 become kOutOfRange.
template <typename ArrayT>
void widen_integers(const arrow::Array& array, std::vector<int64_t>& out) {
  const auto* v = static_cast<const ArrayT&>(array).raw_values();
  out.resize(static_cast<size_t>(array.length()));
  using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (size_t i = 0; i < out.size(); ++i) {
    if constexpr (std::is_same_v<T, uint64_t>) {
      out[i] = v[i] > kMax ? kOutOfRange : static_cast<int64_t>(v[i]);
    } else {
      out[i] = static_cast<int64_t>(v[i]);
    }
  }
}

void load_integers(const arrow::Array& array, std::vector<int64_t>& out) {
  switch (array.type_id()) {
    case arrow::Type::INT8: return widen_integers<arrow::Int8Array>(array, out);
    case arrow::Type::INT16: return widen_integers<arrow::Int16Array>(array, out);
    case arrow::Type::INT32: return widen_integers<arrow::Int32Array>(array, out);
    case arrow::Type::INT64: return widen_integers<arrow::Int64Array>(array, out);
    case arrow::Type::UINT8: return widen_integers<arrow::UInt8Array>(array, out);
    case arrow::Type::UINT16: return widen_integers<arrow::UInt16Array>(array, out);
    case arrow::Type::UINT32: return widen_integers<arrow::UInt32Array>(array, out);
    case arrow::Type::UINT64: return widen_integers<arrow::UInt64Array>(array, out);
    case arrow::Type::DATE32: return widen_integers<arrow::Date32Array>(array, out);
    case arrow::Type::DATE64: return widen_integers<arrow::Date64Array>(array, out);
    case arrow::Type::TIMESTAMP: return widen_integers<arrow::TimestampArray>(array, out);
    default: TS_INTERNAL_ERROR("parquet: no integer decoding for {}", array.type()->ToString());
  }
}

// A numeric array widened to doubles (null slots hold whatever the buffer holds: callers check
// validity first).
template <typename ArrayT>
void widen_numbers(const arrow::Array& array, std::vector<double>& out) {
  const auto* v = static_cast<const ArrayT&>(array).raw_values();
  out.resize(static_cast<size_t>(array.length()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(v[i]);
}

void widen_decimals(const arrow::Array& array, std::vector<double>& out) {
  const auto& d = static_cast<const arrow::Decimal128Array&>(array);
  const int32_t scale = static_cast<const arrow::Decimal128Type&>(*array.type()).scale();
  out.resize(static_cast<size_t>(array.length()));
  for (int64_t i = 0; i < d.length(); ++i) {
    out[static_cast<size_t>(i)] = d.IsNull(i) ? 0.0 : arrow::Decimal128(d.GetValue(i)).ToDouble(scale);
  }
}

void load_numbers(const arrow::Array& array, std::vector<double>& out) {
  switch (array.type_id()) {
    case arrow::Type::DOUBLE: return widen_numbers<arrow::DoubleArray>(array, out);
    case arrow::Type::FLOAT: return widen_numbers<arrow::FloatArray>(array, out);
    case arrow::Type::INT8: return widen_numbers<arrow::Int8Array>(array, out);
    case arrow::Type::INT16: return widen_numbers<arrow::Int16Array>(array, out);
    case arrow::Type::INT32: return widen_numbers<arrow::Int32Array>(array, out);
    case arrow::Type::INT64: return widen_numbers<arrow::Int64Array>(array, out);
    case arrow::Type::UINT8: return widen_numbers<arrow::UInt8Array>(array, out);
    case arrow::Type::UINT16: return widen_numbers<arrow::UInt16Array>(array, out);
    case arrow::Type::UINT32: return widen_numbers<arrow::UInt32Array>(array, out);
    case arrow::Type::UINT64: return widen_numbers<arrow::UInt64Array>(array, out);
    case arrow::Type::DECIMAL128: return widen_decimals(array, out);
    default: TS_INTERNAL_ERROR("parquet: no number decoding for {}", array.type()->ToString());
  }
}

template <typename ArrayT>
void view_strings(const arrow::Array& array, std::vector<std::string_view>& out) {
  const auto& s = static_cast<const ArrayT&>(array);
  out.resize(static_cast<size_t>(array.length()));
  for (int64_t i = 0; i < s.length(); ++i) out[static_cast<size_t>(i)] = s.IsNull(i) ? "" : s.GetView(i);
}

void view_plain_text(const arrow::Array& array, std::vector<std::string_view>& out) {
  if (array.type_id() == arrow::Type::STRING) return view_strings<arrow::StringArray>(array, out);
  return view_strings<arrow::LargeStringArray>(array, out);
}

// Views of a text column's values (into the batch's buffers); "" for nulls. A dictionary's entries
// are viewed once and picked by each row's index. `entries` and `indices` are scratch.
void load_text(const arrow::Array& array, std::vector<std::string_view>& out, std::vector<std::string_view>& entries,
               std::vector<int64_t>& indices) {
  if (array.type_id() != arrow::Type::DICTIONARY) return view_plain_text(array, out);
  const auto& dict = static_cast<const arrow::DictionaryArray&>(array);
  view_plain_text(*dict.dictionary(), entries);
  load_integers(*dict.indices(), indices);
  out.resize(indices.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = dict.IsNull(static_cast<int64_t>(i)) ? "" : entries[static_cast<size_t>(indices[i])];
  }
}

// Which rows of a batch's column are null, as a test of a plain bitmap (none when no row is).
class RowNulls {
 public:
  void load(const arrow::Array& array) {
    bits_ = nullptr;
    if (array.type_id() == arrow::Type::DICTIONARY &&
        static_cast<const arrow::DictionaryArray&>(array).dictionary()->null_count() > 0) {
      return load_dictionary(static_cast<const arrow::DictionaryArray&>(array));
    }
    if (array.null_count() == 0) return;
    bits_ = array.null_bitmap_data();
    offset_ = array.offset();
  }
  bool operator()(int64_t i) const { return bits_ != nullptr && !arrow::bit_util::GetBit(bits_, offset_ + i); }

 private:
  // A dictionary row is null when its index is, or when the entry it picks is (rare: computed).
  void load_dictionary(const arrow::DictionaryArray& dict) {
    own_.assign(static_cast<size_t>(arrow::bit_util::BytesForBits(dict.length())), 0);
    for (int64_t i = 0; i < dict.length(); ++i) {
      if (dict.IsValid(i) && dict.dictionary()->IsValid(dict.GetValueIndex(i))) arrow::bit_util::SetBit(own_.data(), i);
    }
    bits_ = own_.data();
    offset_ = 0;
  }

  const uint8_t* bits_ = nullptr;
  int64_t offset_ = 0;
  std::vector<uint8_t> own_;
};

// Integers as the text a CSV would hold: a date (20240102) as is, a time of day zero-padded to
// HHMMSS (Stooq's <TIME> 093000 is the integer 93000).
void integers_as_text(const std::vector<int64_t>& v, bool time_of_day, std::vector<std::string>& store,
                      std::vector<std::string_view>& out) {
  store.resize(v.size());
  out.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    store[i] = time_of_day ? fmt::format("{:06d}", v[i]) : fmt::format("{}", v[i]);
    out[i] = store[i];
  }
}

// --------------------------------------------------------------------------------- opening

// Closes a file descriptor unless handed over.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

struct OpenedFile {
  std::unique_ptr<parquet::arrow::FileReader> reader;  // null when the file is no readable Parquet
  std::string error;                                   // then Arrow's reason, shortened
  int64_t bytes = 0;
};

// Opens `path`: InputError when the file itself cannot be opened (as the CSV reader), `error` when
// its bytes are not a Parquet file (footer, metadata, schema).
OpenedFile open_parquet(const std::string& path) {
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) TS_INPUT_ERROR("{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) TS_INPUT_ERROR("{}: cannot stat: {}", path, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) TS_INPUT_ERROR("{}: is a directory", path);
  OpenedFile out;
  out.bytes = static_cast<int64_t>(st.st_size);
  auto file = arrow::io::ReadableFile::Open(std::exchange(fd.fd, -1));  // Arrow owns (and closes) it now
  if (!file.ok()) TS_INPUT_ERROR("{}: cannot open: {}", path, shorten(file.status().message()));
  parquet::ArrowReaderProperties props(/*use_threads=*/false);  // ranks are the parallelism
  props.set_batch_size(kBatchRows);
  parquet::arrow::FileReaderBuilder builder;
  try {
    arrow::Status status = builder.Open(*file);
    if (status.ok()) status = builder.properties(props)->Build(&out.reader);
    if (!status.ok()) out.error = shorten(status.message());
  } catch (const parquet::ParquetException& e) {  // some metadata paths throw instead of returning
    out.error = shorten(e.what());
  }
  if (!out.error.empty()) out.reader.reset();
  return out;
}

std::string corrupt_message(const std::string& path, const std::string& error) {
  return Rejection{path, 0, "", RejectReason::CorruptFile, error}.message();
}

// ---------------------------------------------------------------------------------- reader

class Reader {
 public:
  Reader(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns)
      : file_index_(file_index), policy_(policy), columns_(columns) {
    out_.path = path;
  }

  ParsedFile run(RowGroupRange range);

 private:
  bool map_columns();
  bool check_types();
  void place_columns();
  bool check_type(Column c);
  std::vector<int> row_groups(RowGroupRange range) const;
  void read(const std::vector<int>& groups);
  void load_batch(const arrow::RecordBatch& batch);
  void load_dates();
  void load_tickers();
  void read_batch(int64_t rows);
  bool row_time(int64_t i, int64_t row, Bar& bar);
  bool row_group(int64_t i, int64_t row, size_t& group);
  bool row_numbers(int64_t i, int64_t row, Bar& bar);
  bool row_ranges(int64_t row, const Bar& bar);
  void corrupt(const std::string& error);
  void finish();
  // Records (Skip) or throws (Fail) a rejection; returns false so callers can `return reject(...)`.
  bool reject(int64_t row, std::string column, RejectReason reason, std::string detail);

  bool has(Column c) const { return index_.has(c); }
  const std::string& name(Column c) const { return names_[static_cast<size_t>(index_[c])]; }
  const arrow::Array& array(Column c) const { return *arrays_[slot(c)]; }
  bool null(Column c, int64_t i) const { return nulls_[slot(c)](i); }
  std::string date_column() const { return has(Column::Date) ? name(Column::Date) : "Date"; }

  int32_t file_index_;
  OnError policy_;
  ColumnMap columns_;  // a copy: a New York time zone on the date column turns on its session-date rule
  ParsedFile out_;
  OpenedFile file_;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::string> names_;  // the schema's top-level field names
  ColumnIndex index_;
  DateKind date_kind_ = DateKind::Text;
  DateFormat date_unit_ = DateFormat::EpochSeconds;  // DateKind::Epoch
  std::optional<TickerAssembly> bars_;
  int64_t next_row_ = 1;  // file row number of the next batch's first row
  std::vector<int> leaves_;  // the Parquet leaf columns read, ascending
  std::array<int, kColumnCount> batch_column_{};  // where each mapped column is in a batch

  // The current batch, decoded: arrays by column, numbers as doubles, dates as epoch counts or text.
  std::array<const arrow::Array*, kColumnCount> arrays_{};
  std::array<RowNulls, kColumnCount> nulls_;
  std::array<std::vector<double>, kColumnCount> numbers_;
  std::vector<int64_t> epoch_;
  std::vector<std::string_view> date_text_, time_text_, ticker_text_;
  std::vector<int64_t> ticker_group_;  // each row's group, or kNoGroup for an empty ticker
  std::vector<std::string> date_store_, time_store_;
  std::vector<std::string_view> entries_;
  std::vector<int64_t> indices_;
};

ParsedFile Reader::run(RowGroupRange range) {
  file_ = open_parquet(out_.path);
  out_.bytes = file_.bytes;
  if (!file_.reader) {
    corrupt(file_.error);
    return std::move(out_);
  }
  const std::vector<int> groups = row_groups(range);
  if (!map_columns() || !check_types()) return std::move(out_);
  if (file_.reader->parquet_reader()->metadata()->num_rows() == 0) {
    reject(0, "", RejectReason::EmptyFile, "no data rows");
    return std::move(out_);
  }
  bars_.emplace(out_.layout == CsvLayout::Long ? "" : ticker_of_file(out_.path));
  place_columns();
  read(groups);
  const bool whole = range.first == 0 && range.count < 0;
  if (bars_ && whole && out_.rows_read == 0 && out_.rejections.empty()) {  // a footer that counts rows its groups lack
    bars_.reset();
    reject(0, "", RejectReason::EmptyFile, "no data rows");
  }
  if (bars_) finish();
  return std::move(out_);
}

// The groups of `range`; rows of the groups before it are counted in the row numbers.
std::vector<int> Reader::row_groups(RowGroupRange range) const {
  const std::shared_ptr<parquet::FileMetaData> meta = file_.reader->parquet_reader()->metadata();
  const int n = meta->num_row_groups();
  const int end = range.count < 0 ? n : range.first + range.count;
  TS_CHECK(range.first >= 0 && range.first <= end && end <= n, "{}: row groups {} + {} of {}", out_.path,
           range.first, range.count, n);
  std::vector<int> groups;
  for (int g = range.first; g < end; ++g) groups.push_back(g);
  return groups;
}

bool Reader::map_columns() {
  const arrow::Status status = file_.reader->GetSchema(&schema_);
  if (!status.ok()) {
    corrupt(shorten(status.message()));
    return false;
  }
  for (const auto& field : schema_->fields()) names_.push_back(field->name());
  index_ = resolve_columns(names_, columns_);
  if (index_.missing) {
    const Column c = *index_.missing;
    const std::string& want = columns_.source[slot(c)];
    return reject(0, std::string(want.empty() ? column_title(c) : want), RejectReason::MissingColumn,
                  "no such column in the schema");
  }
  out_.has_adj_close = has(Column::AdjClose);
  out_.layout = has(Column::Ticker) ? CsvLayout::Long : CsvLayout::PerTicker;
  return true;
}

// Every mapped column's type, in column order: the first that cannot hold its field rejects the
// whole file (a type is the same in every row).
// US equities' zone: local midnight there names a session date, as in a CSV date with its zone
// (docs/ingest.md "Dates"). Other zones would need a time zone database: their instants are kept.
bool is_new_york(const std::string& tz) {
  return tz == "America/New_York" || tz == "US/Eastern" || tz == "EST5EDT";
}

bool Reader::check_types() {
  for (int c = 0; c < kColumnCount; ++c) {
    if (has(static_cast<Column>(c)) && !check_type(static_cast<Column>(c))) return false;
  }
  return true;
}

bool Reader::check_type(Column c) {
  const arrow::DataType& type = *schema_->field(index_[c])->type();
  const arrow::Type::type id = type.id();
  const bool with_time = has(Column::Time);
  bool ok = false;
  std::string detail = type.ToString();
  switch (c) {
    case Column::Date:
      if (is_instant(id) && !with_time) {
        date_kind_ = DateKind::Epoch;
        date_unit_ = id == arrow::Type::TIMESTAMP ? unit_format(static_cast<const arrow::TimestampType&>(type).unit())
                     : id == arrow::Type::DATE64  ? DateFormat::EpochMillis
                                                  : DateFormat::EpochSeconds;  // date32: days, scaled when loaded
        ok = true;
        if (id == arrow::Type::TIMESTAMP && is_new_york(static_cast<const arrow::TimestampType&>(type).timezone()))
          columns_.new_york_session_dates = true;  // pandas' tz-aware daily dates (yfinance to_parquet)
      } else if (arrow::is_integer(id) && columns_.date_format != DateFormat::Auto) {
        date_kind_ = is_epoch(columns_.date_format) && !with_time ? DateKind::Epoch : DateKind::Text;
        date_unit_ = columns_.date_format;
        ok = true;
      } else {
        ok = is_text(type);
        date_kind_ = DateKind::Text;
        if (arrow::is_integer(id)) {
          detail += " (an integer date needs --columns date_format=epoch_s|epoch_ms|epoch_us|epoch_ns|yyyymmdd)";
        }
        if (is_instant(id)) detail += " (with a separate time column the date must be text or an integer)";
      }
      break;
    case Column::Time: ok = is_text(type) || arrow::is_integer(id); break;
    case Column::Ticker: ok = is_text(type); break;
    default: ok = is_number(id); break;
  }
  return ok || reject(0, name(c), RejectReason::WrongType, detail);
}

// The Parquet leaf columns to read and where each mapped column lands in a batch: batches hold the
// selected fields in schema order. Every mapped field has a primitive type (check_types), so it is
// a leaf itself, and leaves are numbered in schema order.
void Reader::place_columns() {
  std::vector<int> fields;
  for (const int at : index_.at) {
    if (at >= 0) fields.push_back(at);
  }
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  const std::vector<parquet::arrow::SchemaField>& schema_fields = file_.reader->manifest().schema_fields;
  for (const int at : fields) leaves_.push_back(schema_fields[static_cast<size_t>(at)].column_index);
  for (size_t c = 0; c < batch_column_.size(); ++c) {
    const int at = index_.at[c];
    const auto pos = std::lower_bound(fields.begin(), fields.end(), at) - fields.begin();
    batch_column_[c] = at < 0 ? -1 : static_cast<int>(pos);
  }
}

// Reads the mapped columns of `groups` batch by batch. A read error (a damaged page) rejects the file.
void Reader::read(const std::vector<int>& groups) {
  if (groups.empty()) return;
  const std::shared_ptr<parquet::FileMetaData> meta = file_.reader->parquet_reader()->metadata();
  for (int g = 0; g < groups.front(); ++g) next_row_ += meta->RowGroup(g)->num_rows();
  int64_t rows = 0;
  for (const int g : groups) rows += meta->RowGroup(g)->num_rows();
  // The footer's count, but no more rows than the file has bytes: a damaged footer claiming
  // billions of rows must not allocate for them (more rows than that just grow the vector).
  bars_->reserve(static_cast<size_t>(std::clamp<int64_t>(rows, 0, file_.bytes)));
  try {
    auto batches = file_.reader->GetRecordBatchReader(groups, leaves_);
    if (!batches.ok()) return corrupt(shorten(batches.status().message()));
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      const arrow::Status status = (*batches)->ReadNext(&batch);
      if (!status.ok()) return corrupt(shorten(status.message()));
      if (!batch) return;
      load_batch(*batch);
      read_batch(batch->num_rows());
    }
  } catch (const parquet::ParquetException& e) {
    corrupt(shorten(e.what()));
  }
}

// Points arrays_ at the batch's columns and decodes them into plain arrays.
void Reader::load_batch(const arrow::RecordBatch& batch) {
  TS_CHECK(batch.num_columns() == static_cast<int>(leaves_.size()), "{}: a batch of {} columns, {} read", out_.path,
           batch.num_columns(), leaves_.size());
  for (size_t c = 0; c < batch_column_.size(); ++c) {
    if (batch_column_[c] < 0) continue;
    arrays_[c] = batch.column(batch_column_[c]).get();
    nulls_[c].load(*arrays_[c]);
  }
  for (const Column c : kNumbers) {
    if (has(c)) load_numbers(array(c), numbers_[slot(c)]);
  }
  load_dates();
  if (has(Column::Ticker)) load_tickers();
}

// The date column as epoch counts (DateKind::Epoch) or text, and the time column as text.
void Reader::load_dates() {
  const arrow::Array& date = array(Column::Date);
  if (date_kind_ == DateKind::Epoch) {
    load_integers(date, epoch_);
    if (date.type_id() == arrow::Type::DATE32) {
      for (int64_t& d : epoch_) d *= 86400;
    }
  } else if (arrow::is_integer(date.type_id())) {
    load_integers(date, indices_);
    integers_as_text(indices_, false, date_store_, date_text_);
  } else {
    load_text(date, date_text_, entries_, indices_);
  }
  if (has(Column::Time)) {
    const arrow::Array& time = array(Column::Time);
    if (arrow::is_integer(time.type_id())) {
      load_integers(time, indices_);
      integers_as_text(indices_, true, time_store_, time_text_);
    } else {
      load_text(time, time_text_, entries_, indices_);
    }
  }
}

// Each row's ticker group. A dictionary's entries are looked up once per batch, not once per row.
void Reader::load_tickers() {
  const arrow::Array& tickers = array(Column::Ticker);
  const auto group_of = [this](std::string_view t) {
    return t.empty() ? kNoGroup : static_cast<int64_t>(bars_->group_for(t));
  };
  ticker_group_.resize(static_cast<size_t>(tickers.length()));
  if (tickers.type_id() != arrow::Type::DICTIONARY) {
    view_plain_text(tickers, ticker_text_);
    for (size_t i = 0; i < ticker_group_.size(); ++i) ticker_group_[i] = group_of(ticker_text_[i]);
    return;
  }
  const auto& dict = static_cast<const arrow::DictionaryArray&>(tickers);
  view_plain_text(*dict.dictionary(), entries_);
  std::vector<int64_t> entry_group(entries_.size());
  for (size_t e = 0; e < entries_.size(); ++e) entry_group[e] = group_of(entries_[e]);
  load_integers(*dict.indices(), indices_);
  for (size_t i = 0; i < ticker_group_.size(); ++i) {
    const bool is_null = null(Column::Ticker, static_cast<int64_t>(i));
    ticker_group_[i] = is_null ? kNoGroup : entry_group[static_cast<size_t>(indices_[i])];
  }
}

// Validates the rows of the loaded batch in the CSV reader's order: date, ticker, numbers, ranges.
void Reader::read_batch(int64_t rows) {
  Bar bar;
  bar.file = file_index_;
  bar.adj_close = std::numeric_limits<double>::quiet_NaN();
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t row = next_row_ + i;
    ++out_.rows_read;
    size_t group = 0;
    if (!row_time(i, row, bar) || !row_group(i, row, group) || !row_numbers(i, row, bar) || !row_ranges(row, bar)) {
      continue;
    }
    bar.line = static_cast<int32_t>(row);
    bars_->add(bar, group);
  }
  next_row_ += rows;
}

bool Reader::row_time(int64_t i, int64_t row, Bar& bar) {
  const auto at = static_cast<size_t>(i);
  if (null(Column::Date, i)) return reject(row, name(Column::Date), RejectReason::NullValue, "");
  if (date_kind_ == DateKind::Epoch) {
    const std::optional<int64_t> t =
        epoch_[at] == kOutOfRange ? std::nullopt : epoch_to_seconds(epoch_[at], date_unit_, columns_);
    if (!t) {
      return reject(row, name(Column::Date), RejectReason::BadDate,
                    epoch_[at] == kOutOfRange ? "out of range" : fmt::format("{}", epoch_[at]));
    }
    bar.time = *t;
    return true;
  }
  std::optional<std::string_view> time;
  if (has(Column::Time)) {
    if (null(Column::Time, i)) return reject(row, name(Column::Time), RejectReason::NullValue, "");
    time = time_text_[at];
  }
  const std::optional<int64_t> t = parse_bar_time(date_text_[at], time, columns_);
  if (!t) {  // name the time column when the date alone parses
    const bool time_bad = time && parse_bar_time(date_text_[at], std::nullopt, columns_);
    return reject(row, name(time_bad ? Column::Time : Column::Date), RejectReason::BadDate,
                  shorten(time_bad ? *time : date_text_[at]));
  }
  bar.time = *t;
  return true;
}

bool Reader::row_group(int64_t i, int64_t row, size_t& group) {
  if (!has(Column::Ticker)) return true;
  if (null(Column::Ticker, i)) return reject(row, name(Column::Ticker), RejectReason::NullValue, "");
  const int64_t g = ticker_group_[static_cast<size_t>(i)];
  if (g == kNoGroup) return reject(row, name(Column::Ticker), RejectReason::MissingColumn, "");
  group = static_cast<size_t>(g);
  return true;
}

bool Reader::row_numbers(int64_t i, int64_t row, Bar& bar) {
  double* const targets[] = {&bar.open, &bar.high, &bar.low, &bar.close, &bar.adj_close, &bar.volume};
  for (size_t k = 0; k < kNumbers.size(); ++k) {
    const Column c = kNumbers[k];
    if (!has(c)) continue;
    if (null(c, i)) return reject(row, name(c), RejectReason::NullValue, "");
    const double v = numbers_[slot(c)][static_cast<size_t>(i)];
    if (!std::isfinite(v)) return reject(row, name(c), RejectReason::NotFinite, fmt::format("{}", v));
    *targets[k] = v;
  }
  return true;
}

// The CSV reader's range checks; details show the values as numbers (a Parquet file has no text).
bool Reader::row_ranges(int64_t row, const Bar& bar) {
  const std::optional<BarProblem> problem = check_bar_ranges(bar, has(Column::AdjClose));
  if (!problem) return true;
  const Column c = problem->column;
  const auto value = [&bar](Column of) {
    switch (of) {
      case Column::Open: return bar.open;
      case Column::High: return bar.high;
      case Column::Low: return bar.low;
      case Column::Close: return bar.close;
      case Column::AdjClose: return bar.adj_close;
      default: return bar.volume;
    }
  };
  std::string detail;
  switch (problem->reason) {
    case RejectReason::HighBelowLow: detail = fmt::format("high {} < low {}", bar.high, bar.low); break;
    case RejectReason::OpenCloseOutsideRange:
      detail = fmt::format("{} outside low {} .. high {}", value(c), bar.low, bar.high);
      break;
    default: detail = fmt::format("{}", value(c)); break;
  }
  return reject(row, name(c), problem->reason, detail);
}

// An unreadable file: nothing of it is kept (as a corrupt compressed CSV).
void Reader::corrupt(const std::string& error) {
  bars_.reset();
  reject(0, "", RejectReason::CorruptFile, error);
}

// Duplicates (the first row of a time wins), then every rejection in row order, as the CSV reader.
void Reader::finish() {
  std::vector<Rejection> dups = bars_->remove_duplicates(out_.path, date_column(), /*rows=*/true);
  if (policy_ == OnError::Fail && !dups.empty()) TS_INPUT_ERROR("{}", dups.front().message());
  std::vector<Rejection>& all = out_.rejections;
  all.insert(all.end(), std::make_move_iterator(dups.begin()), std::make_move_iterator(dups.end()));
  std::stable_sort(all.begin(), all.end(), [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
  out_.tickers = bars_->take();
}

bool Reader::reject(int64_t row, std::string column, RejectReason reason, std::string detail) {
  Rejection r{out_.path, row, std::move(column), reason, std::move(detail), row > 0};
  if (policy_ == OnError::Skip) {
    out_.rejections.push_back(std::move(r));
    return false;
  }
  if (row > 0 && bars_) {  // a duplicate among earlier rows is the first problem
    std::vector<Rejection> dups = bars_->remove_duplicates(out_.path, date_column(), /*rows=*/true);
    if (!dups.empty() && dups.front().line < row) r = std::move(dups.front());
  }
  TS_INPUT_ERROR("{}", r.message());
}

}  // namespace

std::vector<int64_t> parquet_row_group_rows(const std::string& path) {
  const OpenedFile file = open_parquet(path);
  if (!file.reader) TS_INPUT_ERROR("{}", corrupt_message(path, file.error));
  const std::shared_ptr<parquet::FileMetaData> meta = file.reader->parquet_reader()->metadata();
  std::vector<int64_t> rows;
  for (int g = 0; g < meta->num_row_groups(); ++g) rows.push_back(meta->RowGroup(g)->num_rows());
  return rows;
}

ParsedFile parse_parquet_file(const std::string& path, int32_t file_index, OnError policy, const ColumnMap& columns,
                              RowGroupRange range) {
  return Reader(path, file_index, policy, columns).run(range);
}

}  // namespace tickstream
