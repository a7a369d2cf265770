// The per-ticker feature functor: streaming EMA/Wilder state, windows read by index (docs/features.md).
#pragma once

#include <cmath>

#include "features/kernels.hpp"

namespace tickstream::kernels {

enum Feature : int {
  kLogret1, kLogret5, kLogret10, kLogret20, kVol20, kRsi14, kMacd, kMacdSignal,
  kBbPctb, kAtrRel, kSma20Rel, kSma50Rel, kRangeRel, kGap, kVolumeZ, kObvRel
};

// Adjusted prices of one ticker: every price scaled by adj_close / close where adj_close is finite.
struct Prices {
  RawViews raw;
  int64_t i = 0;
  KOKKOS_INLINE_FUNCTION double factor(int64_t t) const {
    if (raw.adj_close.extent(0) == 0) return 1.0;
    const double a = raw.adj_close(i, t);
    return std::isfinite(a) ? a / raw.close(i, t) : 1.0;
  }
  KOKKOS_INLINE_FUNCTION double c(int64_t t) const { return raw.close(i, t) * factor(t); }
  KOKKOS_INLINE_FUNCTION double o(int64_t t) const { return raw.open(i, t) * factor(t); }
  KOKKOS_INLINE_FUNCTION double h(int64_t t) const { return raw.high(i, t) * factor(t); }
  KOKKOS_INLINE_FUNCTION double l(int64_t t) const { return raw.low(i, t) * factor(t); }
  KOKKOS_INLINE_FUNCTION double v(int64_t t) const { return raw.volume(i, t); }
};

// TTR-style EMA: the first output is the mean of the first n inputs, then a*x + (1-a)*e.
struct Ema {
  double a = 0, n = 0, sum = 0, value = 0;
  int64_t seen = 0;
  KOKKOS_INLINE_FUNCTION void init(double periods, bool wilder) {
    n = periods, a = wilder ? 1.0 / periods : 2.0 / (periods + 1.0), sum = 0, value = 0, seen = 0;
  }
  // Adds x; returns true once the EMA is defined.
  KOKKOS_INLINE_FUNCTION bool add(double x) {
    ++seen;
    if (seen < n) return sum += x, false;
    if (seen == static_cast<int64_t>(n)) return value = (sum + x) / n, true;
    value = a * x + (1.0 - a) * value;
    return true;
  }
};

// Recursive state of one segment (reset at every gap).
struct SegmentState {
  Ema ema12, ema26, signal9, up14, down14, atr14;
  KOKKOS_INLINE_FUNCTION void reset() {
    ema12.init(12, false), ema26.init(26, false), signal9.init(9, false);
    up14.init(14, true), down14.init(14, true), atr14.init(14, true);
  }
};

struct WindowMoments {
  double mean = 0, ss = 0;  // ss: sum of squared deviations
};

// Mean and squared deviations of x over the n bars ending at t; a constant window gets exactly
// its value and 0 (a plain sum would leave rounding noise that flips z-scores).
template <typename F>
KOKKOS_INLINE_FUNCTION WindowMoments window_moments(int64_t t, int64_t n, const F& x) {
  WindowMoments m;
  bool constant = true;
  for (int64_t s = t - n + 1; s <= t; ++s) m.mean += x(s), constant = constant && x(s) == x(t);
  if (constant) return m.mean = x(t), m;
  m.mean /= static_cast<double>(n);
  for (int64_t s = t - n + 1; s <= t; ++s) m.ss += (x(s) - m.mean) * (x(s) - m.mean);
  return m;
}

}  // namespace tickstream::kernels
