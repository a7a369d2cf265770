// Loader latency statistics as JSON: chunk wait percentiles, stall fraction, read rate, cache hit rate, memory.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "data/chunk_loader.hpp"

namespace tickstream {

// The q-quantile (0 <= q <= 1) of `values`, linear between order statistics (numpy's default);
// 0 for no values.
double quantile(std::vector<double> values, double q);

// One loader's (or one epoch's) figures. `step_time_s`: wall time of the training steps that
// consumed the chunks. Keys: chunks, wait_ms_mean, wait_ms_p50, wait_ms_p99, wait_ms_max
// (0 without chunks), wait_s_total, stall_fraction (total wait / step_time_s, 0 when step_time_s
// <= 0), read_mb, read_s, read_mb_s (MB = 1e6 bytes; 0 without reads), cache_hits, cache_misses,
// cache_hit_rate (null without cache lookups), peak_mb, bound_mb.
nlohmann::json loader_stats_json(const LoaderStats& stats, double step_time_s);

// The figures of two loaders (or epochs) together: counts and times add, peaks take the larger.
LoaderStats merged(LoaderStats a, const LoaderStats& b);

}  // namespace tickstream
