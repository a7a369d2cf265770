// Column mapping: aliases, vendor layouts, `--columns`, and the date/time encodings they use.
#include "store/column_map.hpp"

#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/csv_fields.hpp"

namespace tickstream {
namespace {

constexpr std::array<std::string_view, kColumnCount> kKeys = {"date", "time",  "ticker",    "open",  "high",
                                                              "low",  "close", "adj_close", "volume"};
constexpr std::array<std::string_view, kColumnCount> kTitles = {"Date", "Time",  "Ticker",    "Open",  "High",
                                                                "Low",  "Close", "Adj Close", "Volume"};
constexpr Column kRequired[] = {Column::Date, Column::Open, Column::High, Column::Low, Column::Close, Column::Volume};

size_t slot(Column c) { return static_cast<size_t>(c); }

// The column a normalized header name stands for by default. "time" is the date column unless
// another date alias is present (then it is a separate time-of-day column; see resolve_columns).
std::optional<Column> alias_of(const std::string& name) {
  if (name == "date" || name == "datetime" || name == "timestamp" || name == "time") return Column::Date;
  if (name == "ticker" || name == "symbol") return Column::Ticker;
  if (name == "open") return Column::Open;
  if (name == "high") return Column::High;
  if (name == "low") return Column::Low;
  if (name == "close") return Column::Close;
  if (name == "adj close" || name == "adj_close" || name == "adjclose" || name == "adj. close") return Column::AdjClose;
  if (name == "volume") return Column::Volume;
  return std::nullopt;
}

DateFormat date_format_of(std::string_view text) {
  if (text == "auto") return DateFormat::Auto;
  if (text == "yyyymmdd") return DateFormat::Yyyymmdd;
  if (text == "epoch_s") return DateFormat::EpochSeconds;
  if (text == "epoch_ms") return DateFormat::EpochMillis;
  if (text == "epoch_us") return DateFormat::EpochMicros;
  if (text == "epoch_ns") return DateFormat::EpochNanos;
  TS_INPUT_ERROR("--columns: date_format '{}' is not one of auto, yyyymmdd, epoch_s, epoch_ms, epoch_us, epoch_ns",
                 text);
}

int64_t units_per_second(DateFormat unit) {
  switch (unit) {
    case DateFormat::EpochMillis: return 1000;
    case DateFormat::EpochMicros: return 1000000;
    case DateFormat::EpochNanos: return 1000000000;
    default: return 1;
  }
}

std::optional<int64_t> parse_integer(std::string_view text) {
  text = csv::trim(text);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// Seconds into the day from "HH:MM[:SS]" or "HHMM[SS]"; nullopt otherwise.
std::optional<int64_t> parse_time_of_day(std::string_view text) {
  text = csv::trim(text);
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c != ':') return std::nullopt;
  }
  if (digits.size() != 4 && digits.size() != 6) return std::nullopt;
  const int h = std::stoi(digits.substr(0, 2)), m = std::stoi(digits.substr(2, 2));
  const int s = digits.size() == 6 ? std::stoi(digits.substr(4, 2)) : 0;
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  return h * 3600 + m * 60 + s;
}

std::optional<int64_t> parse_date_text(std::string_view date, DateFormat format, const ColumnMap& map) {
  if (format == DateFormat::Auto) return parse_timestamp(date);
  if (format == DateFormat::Yyyymmdd) {
    date = csv::trim(date);
    if (date.size() != 8 || !parse_integer(date)) return std::nullopt;
    const std::string iso = fmt::format("{}-{}-{}", date.substr(0, 4), date.substr(4, 2), date.substr(6, 2));
    return parse_timestamp(iso);
  }
  const std::optional<int64_t> v = parse_integer(date);
  if (!v) return std::nullopt;
  return epoch_to_seconds(*v, format, map);
}

}  // namespace

std::string_view column_key(Column c) { return kKeys[slot(c)]; }
std::string_view column_title(Column c) { return kTitles[slot(c)]; }

ColumnMap layout_columns(std::string_view layout) {
  ColumnMap m;
  m.layout = std::string(layout);
  auto set = [&m](Column c, const char* name) { m.source[slot(c)] = name; };
  if (layout == "auto") return m;
  if (layout == "yahoo") {
    set(Column::Date, "Date"), set(Column::Open, "Open"), set(Column::High, "High"), set(Column::Low, "Low");
    set(Column::Close, "Close"), set(Column::AdjClose, "Adj Close"), set(Column::Volume, "Volume");
    return m;
  }
  if (layout == "stooq") {
    set(Column::Ticker, "<TICKER>"), set(Column::Date, "<DATE>"), set(Column::Time, "<TIME>");
    set(Column::Open, "<OPEN>"), set(Column::High, "<HIGH>"), set(Column::Low, "<LOW>");
    set(Column::Close, "<CLOSE>"), set(Column::Volume, "<VOL>");
    m.date_format = DateFormat::Yyyymmdd;
    return m;
  }
  if (layout == "polygon-flat") {
    set(Column::Ticker, "ticker"), set(Column::Date, "window_start"), set(Column::Open, "open");
    set(Column::High, "high"), set(Column::Low, "low"), set(Column::Close, "close"), set(Column::Volume, "volume");
    m.date_format = DateFormat::EpochNanos;
    m.new_york_session_dates = true;
    return m;
  }
  TS_INPUT_ERROR("--layout: '{}' is not one of auto, yahoo, stooq, polygon-flat", layout);
}

void apply_column_spec(ColumnMap& map, std::string_view spec) {
  size_t pos = 0;
  while (pos <= spec.size()) {
    const size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string_view pair = csv::trim(spec.substr(pos, comma - pos));
    pos = comma + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    TS_REQUIRE_INPUT(eq != std::string_view::npos, "--columns: '{}' is not key=Header", pair);
    const std::string_view key = csv::trim(pair.substr(0, eq)), value = csv::trim(pair.substr(eq + 1));
    TS_REQUIRE_INPUT(!value.empty(), "--columns: '{}' names no header", pair);
    if (key == "date_format") {
      map.date_format = date_format_of(value);
      continue;
    }
    bool known = false;
    for (int c = 0; c < kColumnCount; ++c) {
      if (kKeys[static_cast<size_t>(c)] != key) continue;
      map.source[static_cast<size_t>(c)] = std::string(value);
      known = true;
    }
    TS_REQUIRE_INPUT(known, "--columns: unknown key '{}' (date, time, ticker, open, high, low, close, adj_close, "
                     "volume, date_format)", key);
  }
}

ColumnIndex resolve_columns(const std::vector<std::string>& header, const ColumnMap& map) {
  ColumnIndex out;
  std::vector<bool> taken(header.size(), false);
  for (int c = 0; c < kColumnCount; ++c) {  // explicit names first
    const std::string& want = map.source[static_cast<size_t>(c)];
    if (want.empty()) continue;
    for (size_t i = 0; i < header.size(); ++i) {
      if (taken[i] || csv::normalize_name(header[i]) != csv::normalize_name(want)) continue;
      out.at[static_cast<size_t>(c)] = static_cast<int>(i), taken[i] = true;
      break;
    }
  }
  int time_alias = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (taken[i]) continue;
    const std::string name = csv::normalize_name(header[i]);
    const std::optional<Column> c = alias_of(name);
    if (!c || !map.source[slot(*c)].empty()) continue;  // an explicit name replaces the aliases
    if (name == "time" && *c == Column::Date) time_alias = static_cast<int>(i);
    if (out.at[slot(*c)] < 0) out.at[slot(*c)] = static_cast<int>(i);
  }
  // Date,Time,... (a date column and a time-of-day column): "time" is the time of day.
  if (time_alias >= 0 && out[Column::Date] != time_alias && out[Column::Time] < 0 && map.source[slot(Column::Time)].empty())
    out.at[slot(Column::Time)] = time_alias;
  for (const Column c : kRequired)
    if (!out.has(c)) {
      out.missing = c;
      break;
    }
  return out;
}

std::optional<int64_t> epoch_to_seconds(int64_t value, DateFormat unit, const ColumnMap& map) {
  const int64_t per = units_per_second(unit);
  int64_t s = value / per;
  if (value % per != 0 && value < 0) --s;  // floor
  constexpr int64_t kLimit = int64_t{1} << 40;  // ~34,800 years: beyond any bar
  if (s > kLimit || s < -kLimit) return std::nullopt;
  return session_time(s, map);
}

int64_t session_time(int64_t seconds, const ColumnMap& map) {
  if (!map.new_york_session_dates) return seconds;
  const int64_t into_day = ((seconds % 86400) + 86400) % 86400;
  return into_day == 4 * 3600 || into_day == 5 * 3600 ? seconds - into_day : seconds;
}

std::optional<int64_t> parse_bar_time(std::string_view date, std::optional<std::string_view> time,
                                      const ColumnMap& map) {
  std::optional<int64_t> t = parse_date_text(date, map.date_format, map);
  if (!t || !time) return t;
  const std::optional<int64_t> of_day = parse_time_of_day(*time);
  if (!of_day) return std::nullopt;
  return session_time(*t + *of_day, map);
}

}  // namespace tickstream
