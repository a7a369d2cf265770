// Calendar arithmetic and ISO 8601 parsing/formatting of bar times (seconds since epoch, UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tickstream {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

// Inverse of days_from_civil.
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day);

// 0 = Monday ... 6 = Sunday.
int weekday_from_days(int64_t days);

// Parses YYYY-MM-DD, optionally followed by [T or space]HH:MM[:SS[.fraction]] and a zone
// (Z, +HH:MM, -HH:MM, +HHMM). Returns seconds since epoch UTC, or nullopt when malformed.
// A local time of exactly 00:00:00 names a session date: its zone is ignored, so
// "2024-01-02 00:00:00-05:00" is 2024-01-02T00:00:00Z, like "2024-01-02".
std::optional<int64_t> parse_timestamp(std::string_view text);

// "2024-01-02" when the time is 00:00:00 UTC and date_only_if_midnight, else "2024-01-02T14:30:00Z".
std::string format_timestamp(int64_t seconds, bool date_only_if_midnight = true);

}  // namespace tickstream
