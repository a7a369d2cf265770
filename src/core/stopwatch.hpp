// Monotonic wall-clock time for phase timings and rates.
#pragma once

#include <chrono>

namespace tickstream {

// Seconds on the monotonic clock (an arbitrary origin: use differences).
inline double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds since `t0`.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tickstream
