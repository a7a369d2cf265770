// Rank-aware logging on spdlog: rank 0 prints progress, every rank may log to its own file.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace tickstream {

struct LogOptions {
  int rank = 0;
  int size = 1;
  std::string dir;       // when non-empty: DIR/rank-<R>.log at debug level on every rank
  bool verbose = false;  // debug on the console
};

// Configures spdlog's default logger: console at info on rank 0 and warn elsewhere, pattern
// "[time] [rR] level message", plus the optional per-rank file.
void configure_logging(const LogOptions& options);

// Console level of this rank from now on: info when `speaks` (rank 0, or a group's first rank in
// a sweep, which reports its trials), warn otherwise; debug stays debug (--verbose).
void set_console_info(bool speaks);

}  // namespace tickstream
