// The per-ticker feature functor's building blocks: streaming EMA/Wilder state and short
// histories of per-bar derived series, so windows read contiguous precomputed values
// (docs/features.md).
#pragma once

#include <cmath>

#include "features/kernels.hpp"

namespace tickstream::kernels {

enum Feature : int {
  kLogret1, kLogret5, kLogret10, kLogret20, kVol20, kRsi14, kMacd, kMacdSignal,
  kBbPctb, kAtrRel, kSma20Rel, kSma50Rel, kRangeRel, kGap, kVolumeZ, kObvRel,
  kClv, kLogret60, kVol60, kHigh20Rel
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

// Recursive state of one segment: the ticker's valid bars since the last restart (Gaps::strict:
// every missing bar; Gaps::skip: none).
struct SegmentState {
  Ema ema12, ema26, signal9, up14, down14, atr14;
  KOKKOS_INLINE_FUNCTION void reset() {
    ema12.init(12, false), ema26.init(26, false), signal9.init(9, false);
    up14.init(14, true), down14.init(14, true), atr14.init(14, true);
  }
};

// The last W values of a per-bar series, indexed by segment position p. Every value is stored
// twice (at p mod W and p mod W + W), so the n <= W values ending at p are contiguous.
template <int W>
struct History {
  static_assert((W & (W - 1)) == 0, "W must be a power of two");
  double buf[2 * W];
  KOKKOS_INLINE_FUNCTION void push(int64_t p, double x) {
    const int64_t j = p & (W - 1);
    buf[j] = x, buf[j + W] = x;
  }
  // Value at position q (p - W < q <= p for the latest push p).
  KOKKOS_INLINE_FUNCTION double at(int64_t q) const { return buf[q & (W - 1)]; }
  // The n values ending at position p, oldest first.
  KOKKOS_INLINE_FUNCTION const double* window(int64_t p, int64_t n) const { return buf + (p & (W - 1)) + W - n + 1; }
};

// Number of consecutive equal values ending at the latest one (a window of n values is constant
// exactly when run >= n): the exact-zero sd rule in O(1).
struct EqualRun {
  double last = 0;
  int64_t run = 0;
  KOKKOS_INLINE_FUNCTION void reset() { run = 0; }
  KOKKOS_INLINE_FUNCTION void push(double x) {
    run = (run > 0 && x == last) ? run + 1 : 1;
    last = x;
  }
};

// Sum of squared deviations from the mean of the last N values of a series, in O(1) a bar: sums
// of the values shifted by K (the mean at the last recompute) slide bar by bar and are
// recomputed from the window every 32 bars (the rounding they gather stays bounded) and after
// any window that held a non-finite value (computed two-pass, as the reference does).
template <int N>
struct SlidingSquares {
  double k = 0, s1 = 0, s2 = 0;
  bool ready = false;
  KOKKOS_INLINE_FUNCTION void reset() { ready = false; }
  // `w`: the N values ending at position p (oldest first); `leaving`: the value at p - N;
  // `clean`: no non-finite value among w.
  KOKKOS_INLINE_FUNCTION double update(int64_t p, const double* w, double leaving, bool clean) {
    if (!clean || !ready || (p & 31) == 0) {
      double sum = 0;
      for (int j = 0; j < N; ++j) sum += w[j];
      k = sum / N, s1 = 0, s2 = 0;
      for (int j = 0; j < N; ++j) s1 += w[j] - k, s2 += (w[j] - k) * (w[j] - k);
      ready = clean;
    } else {
      const double in = w[N - 1] - k, out = leaving - k;
      s1 += in - out, s2 += in * in - out * out;
    }
    const double ss = s2 - s1 * s1 / N;
    return ss < 0 ? 0.0 : ss;  // rounding may leave a flat window's sum below 0; NaN stays NaN
  }
};

}  // namespace tickstream::kernels
