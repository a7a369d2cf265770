// Timestamp parsing/formatting and calendar arithmetic against closed-form values.
#include <gtest/gtest.h>

#include "core/time.hpp"

namespace tickstream {
namespace {

TEST(Time, CivilRoundTrip) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2010, 1, 4), 14613);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  for (int64_t d = -800000; d < 800000; d += 997) {
    int64_t y = 0;
    unsigned m = 0, day = 0;
    civil_from_days(d, y, m, day);
    ASSERT_EQ(days_from_civil(y, m, day), d);
  }
  EXPECT_EQ(weekday_from_days(days_from_civil(2010, 1, 4)), 0);  // a Monday
  EXPECT_EQ(weekday_from_days(days_from_civil(2026, 11, 23)), 0);
}

TEST(Time, ParsesDatesAndDateTimes) {
  EXPECT_EQ(parse_timestamp("2010-01-04"), 1262563200);
  EXPECT_EQ(parse_timestamp("2010-01-04 14:30"), 1262563200 + 14 * 3600 + 30 * 60);
  EXPECT_EQ(parse_timestamp("2010-01-04T14:30:15Z"), 1262563200 + 52215);
  EXPECT_EQ(parse_timestamp("2010-01-04T14:30:15.250Z"), 1262563200 + 52215);
  EXPECT_EQ(parse_timestamp("2023-01-03 09:30:00-05:00"), parse_timestamp("2023-01-03T14:30:00Z"));
  EXPECT_EQ(parse_timestamp("2023-01-03T09:30:00+0130"), parse_timestamp("2023-01-03T08:00:00Z"));
  EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800);
}

TEST(Time, LocalMidnightIsASessionDate) {
  EXPECT_EQ(parse_timestamp("2024-01-02 00:00:00-05:00"), parse_timestamp("2024-01-02"));
  EXPECT_EQ(parse_timestamp("2024-01-02T00:00:00+09:00"), parse_timestamp("2024-01-02"));
  EXPECT_EQ(parse_timestamp("2024-01-02 00:00:01-05:00"), parse_timestamp("2024-01-02T05:00:01Z"));
}

TEST(Time, RejectsMalformed) {
  for (const char* bad : {"", "2010-1-4", "2010/01/04", "2010-02-30", "2023-02-29", "2010-13-01",
                          "2010-01-04 25:00", "2010-01-04T10", "2010-01-04x", "04.01.2010", "2010-01-04 10:00 EST"})
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
}

TEST(Time, Formats) {
  EXPECT_EQ(format_timestamp(1262563200), "2010-01-04");
  EXPECT_EQ(format_timestamp(1262563200, false), "2010-01-04T00:00:00Z");
  EXPECT_EQ(format_timestamp(1262563200 + 52215), "2010-01-04T14:30:15Z");
  EXPECT_EQ(format_timestamp(-86400), "1969-12-31");
  EXPECT_EQ(parse_timestamp(format_timestamp(1262563200 + 52215)), 1262563200 + 52215);
}

}  // namespace
}  // namespace tickstream
