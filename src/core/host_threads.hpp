// Host threads over independent items: [0, n) cut into `threads` contiguous ranges, one thread
// each (the caller's thread takes the first), joined before returning; the first exception a
// range throws is rethrown after every thread has joined.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tickstream {

// Calls body(begin, end) for the ranges of [0, n); with threads <= 1 (or n <= 1), one call here.
template <typename Body>
void parallel_ranges(int64_t n, int threads, const Body& body) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  if (parts == 1) {
    if (n > 0) body(int64_t{0}, n);
    return;
  }
  std::exception_ptr first;
  std::mutex lock;
  const auto run = [&](int64_t p) {
    try {
      body(n * p / parts, n * (p + 1) / parts);
    } catch (...) {
      const std::lock_guard<std::mutex> guard(lock);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int64_t p = 1; p < parts; ++p) pool.emplace_back(run, p);
  run(0);
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace tickstream
