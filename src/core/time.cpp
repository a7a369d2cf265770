// Calendar arithmetic and ISO 8601 timestamp parsing without locale or libc time zones.
#include "core/time.hpp"

#include <fmt/format.h>

namespace tickstream {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& year, unsigned& month, unsigned& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2);
}

int weekday_from_days(int64_t days) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads exactly n decimal digits.
  bool digits(int n, int& out) {
    if (pos_ + static_cast<size_t>(n) > s_.size()) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    out = v;
    return true;
  }
  void skip_digits() {
    while (!done() && peek() >= '0' && peek() <= '9') ++pos_;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

unsigned days_in_month(int year, int month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool parse_date(Cursor& c, int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, m) || !c.eat('-') || !c.digits(2, d))
    return false;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, m)) return false;
  days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

bool parse_clock(Cursor& c, int64_t& seconds) {
  int hh = 0, mm = 0, ss = 0;
  if (!c.digits(2, hh) || !c.eat(':') || !c.digits(2, mm)) return false;
  if (c.eat(':')) {
    if (!c.digits(2, ss)) return false;
    if (c.eat('.')) c.skip_digits();
  }
  if (hh > 23 || mm > 59 || ss > 60) return false;
  seconds = hh * 3600 + mm * 60 + ss;
  return true;
}

// Returns the zone offset in seconds east of UTC.
bool parse_zone(Cursor& c, int64_t& offset) {
  offset = 0;
  if (c.done() || c.eat('Z')) return true;
  const char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  c.eat(sign);
  int hh = 0, mm = 0;
  if (!c.digits(2, hh)) return false;
  c.eat(':');
  if (!c.digits(2, mm) || hh > 23 || mm > 59) return false;
  offset = (sign == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  return true;
}

}  // namespace

std::optional<int64_t> parse_timestamp(std::string_view text) {
  Cursor c(text);
  int64_t days = 0;
  if (!parse_date(c, days)) return std::nullopt;
  int64_t seconds = 0;
  int64_t offset = 0;
  if (c.eat('T') || c.eat(' ')) {
    if (!parse_clock(c, seconds)) return std::nullopt;
    if (!parse_zone(c, offset)) return std::nullopt;
  }
  if (!c.done()) return std::nullopt;
  // Local midnight names a session date (yfinance daily: "2024-01-02 00:00:00-05:00"): keep the
  // local date at 00:00 UTC, as for a plain date, instead of shifting it to 05:00 UTC.
  if (seconds == 0) offset = 0;
  return days * 86400 + seconds - offset;
}

std::string format_timestamp(int64_t seconds, bool date_only_if_midnight) {
  const int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  const int64_t rem = seconds - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (rem == 0 && date_only_if_midnight) return fmt::format("{:04}-{:02}-{:02}", y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rem / 3600, rem / 60 % 60,
                     rem % 60);
}

}  // namespace tickstream
