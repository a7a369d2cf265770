// Loader statistics: wait-time quantiles and the JSON record of one loader.
#include "data/loader_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tickstream {

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

nlohmann::json loader_stats_json(const LoaderStats& s, double step_time_s) {
  const std::vector<double>& w = s.wait_ms;
  const double wait_ms_total = std::accumulate(w.begin(), w.end(), 0.0);
  const int64_t lookups = s.cache_hits + s.cache_misses;
  nlohmann::json j;
  j["chunks"] = s.chunks;
  j["wait_ms_mean"] = w.empty() ? 0.0 : wait_ms_total / static_cast<double>(w.size());
  j["wait_ms_p50"] = quantile(w, 0.5);
  j["wait_ms_p99"] = quantile(w, 0.99);
  j["wait_ms_max"] = w.empty() ? 0.0 : *std::max_element(w.begin(), w.end());
  j["wait_s_total"] = wait_ms_total / 1e3;
  j["stall_fraction"] = step_time_s > 0 ? wait_ms_total / 1e3 / step_time_s : 0.0;
  j["read_mb"] = s.bytes_read / 1e6;
  j["read_s"] = s.read_s;
  j["read_mb_s"] = s.read_s > 0 ? s.bytes_read / 1e6 / s.read_s : 0.0;
  j["cache_hits"] = s.cache_hits;
  j["cache_misses"] = s.cache_misses;
  j["cache_hit_rate"] = lookups > 0 ? nlohmann::json(static_cast<double>(s.cache_hits) / static_cast<double>(lookups))
                                    : nlohmann::json(nullptr);
  j["peak_mb"] = static_cast<double>(s.peak_bytes) / 1e6;
  j["bound_mb"] = static_cast<double>(s.bound_bytes) / 1e6;
  return j;
}

LoaderStats merged(LoaderStats a, const LoaderStats& b) {
  a.chunks += b.chunks, a.bytes_read += b.bytes_read, a.read_s += b.read_s;
  a.wait_ms.insert(a.wait_ms.end(), b.wait_ms.begin(), b.wait_ms.end());
  a.peak_bytes = std::max(a.peak_bytes, b.peak_bytes), a.bound_bytes = std::max(a.bound_bytes, b.bound_bytes);
  a.cache_hits += b.cache_hits, a.cache_misses += b.cache_misses;
  return a;
}

}  // namespace tickstream
