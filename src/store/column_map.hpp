// Which source column feeds each bar field and how its times are written: header names matched
// against known aliases by default, `--columns role=Name,...` for vendor headers, or a known
// vendor layout (`--layout yahoo|stooq|polygon-flat`). Shared by the CSV and Parquet readers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tickstream {

// The fields a source column can feed, in the order numbers are checked.
enum class Column { Date, Time, Ticker, Open, High, Low, Close, AdjClose, Volume };
inline constexpr int kColumnCount = 9;

// How the date column is written. Auto: ISO 8601 text (docs/ingest.md), or a date/timestamp type
// in Parquet; Yyyymmdd: 20240102 (Stooq); Epoch*: integer time since 1970-01-01 UTC.
enum class DateFormat { Auto, Yyyymmdd, EpochSeconds, EpochMillis, EpochMicros, EpochNanos };

struct ColumnMap {
  std::array<std::string, kColumnCount> source{};  // header name per column; "" = matched by alias
  DateFormat date_format = DateFormat::Auto;
  // A time at 00:00 New York time (04:00 or 05:00 UTC) names that session's date: vendors that
  // stamp US daily bars with the session's start as an instant (Polygon's flat files).
  bool new_york_session_dates = false;
  std::string layout = "auto";
};

// "date", "time", "ticker", "open", "high", "low", "close", "adj_close", "volume".
std::string_view column_key(Column c);
// "Date", "Ticker", "Adj Close", ...: how messages name a column that is missing.
std::string_view column_title(Column c);

// A known vendor layout (docs/ingest.md shows a sample header of each): auto (aliases only),
// yahoo, stooq, polygon-flat. InputError naming the choices otherwise.
ColumnMap layout_columns(std::string_view layout);

// Applies `--columns`: comma-separated `key=Header` pairs (keys as column_key, plus
// `date_format=auto|yyyymmdd|epoch_s|epoch_ms|epoch_us|epoch_ns`). InputError on an unknown key,
// a pair without '=', or an empty header name.
void apply_column_spec(ColumnMap& map, std::string_view spec);

// Positions of the columns in a header: explicit names (trimmed, case-insensitive) first, then
// the aliases; -1 where absent. `missing` is the first required column not found (date, open,
// high, low, close, volume; the ticker is optional and decides the layout).
struct ColumnIndex {
  std::array<int, kColumnCount> at{-1, -1, -1, -1, -1, -1, -1, -1, -1};
  std::optional<Column> missing;
  int operator[](Column c) const { return at[static_cast<size_t>(c)]; }
  bool has(Column c) const { return (*this)[c] >= 0; }
};
ColumnIndex resolve_columns(const std::vector<std::string>& header, const ColumnMap& map);

// A bar time in seconds since the epoch, UTC, from the date text and (when the map has a time
// column) the time-of-day text (HH:MM[:SS] or HHMM[SS]), as the map says they are written; nullopt when they do not parse.
std::optional<int64_t> parse_bar_time(std::string_view date, std::optional<std::string_view> time,
                                      const ColumnMap& map);

// An integer timestamp in `unit` (an Epoch* format) to seconds, floored; applies the session-date
// rule. nullopt on overflow.
std::optional<int64_t> epoch_to_seconds(int64_t value, DateFormat unit, const ColumnMap& map);

// The session-date rule alone (identity unless map.new_york_session_dates).
int64_t session_time(int64_t seconds, const ColumnMap& map);

}  // namespace tickstream
