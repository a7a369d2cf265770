// Plain serial reference of the default feature set and labels, written from docs/features.md.
#include "features/reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"

namespace tickstream {
namespace {

using Series = std::vector<double>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Bars [begin, end) of the input, all valid: one gap-free segment.
struct Segment {
  int64_t begin = 0;
  int64_t end = 0;
};

// Adjusted prices and volume of one segment, indexed from 0 at the segment's first bar.
struct Bars {
  Series o, h, l, c, v;
  int64_t size() const { return static_cast<int64_t>(c.size()); }
};

bool bar_valid(const TickerSeries& s, int64_t t) { return s.valid == nullptr || s.valid[t] != 0; }

// Maximal runs of valid bars (valid == null means every bar is valid).
std::vector<Segment> find_segments(const TickerSeries& s) {
  std::vector<Segment> segments;
  int64_t t = 0;
  while (t < s.bars) {
    if (!bar_valid(s, t)) {
      ++t;
      continue;
    }
    Segment seg{t, t};
    while (seg.end < s.bars && bar_valid(s, seg.end)) ++seg.end;
    segments.push_back(seg);
    t = seg.end;
  }
  return segments;
}

// O, H, L, C scaled by adj_close / close where adj_close is given and finite; volume as stored.
Bars adjusted_bars(const TickerSeries& s, const Segment& seg) {
  Bars b;
  for (int64_t t = seg.begin; t < seg.end; ++t) {
    double factor = 1.0;
    if (s.adj_close != nullptr && std::isfinite(s.adj_close[t])) factor = s.adj_close[t] / s.close[t];
    b.o.push_back(s.open[t] * factor);
    b.h.push_back(s.high[t] * factor);
    b.l.push_back(s.low[t] * factor);
    b.c.push_back(s.close[t] * factor);
    b.v.push_back(s.volume[t]);
  }
  return b;
}

// The n values of x ending at t, or an empty vector when the window is not complete (it starts
// before the segment or holds an undefined input).
Series window(const Series& x, int64_t t, int64_t n) {
  if (t - n + 1 < 0) return {};
  Series w(x.begin() + (t - n + 1), x.begin() + (t + 1));
  for (double value : w)
    if (std::isnan(value)) return {};
  return w;
}

double mean_of(const Series& w) {
  double sum = 0.0;
  for (double value : w) sum += value;
  return sum / static_cast<double>(w.size());
}

// Sum of squared deviations from the mean; exactly 0 when all values are equal (a plain two-pass
// sum could leave rounding noise there, and the sd == 0 edge rules must see an exact 0).
double sum_sq_dev(const Series& w) {
  if (std::all_of(w.begin(), w.end(), [&](double value) { return value == w.front(); })) return 0.0;
  const double m = mean_of(w);
  double ss = 0.0;
  for (double value : w) ss += (value - m) * (value - m);
  return ss;
}

// SMA_n(x)_t: mean of the n values ending at t; NaN where the window is incomplete.
Series sma(const Series& x, int64_t n) {
  Series out(x.size(), kNaN);
  for (int64_t t = 0; t < static_cast<int64_t>(x.size()); ++t) {
    const Series w = window(x, t, n);
    if (!w.empty()) out[t] = mean_of(w);
  }
  return out;
}

// Population sd (divides by n) over the n values ending at t.
Series sd_pop(const Series& x, int64_t n) {
  Series out(x.size(), kNaN);
  for (int64_t t = 0; t < static_cast<int64_t>(x.size()); ++t) {
    const Series w = window(x, t, n);
    if (!w.empty()) out[t] = std::sqrt(sum_sq_dev(w) / static_cast<double>(n));
  }
  return out;
}

// Sample sd (divides by n - 1) over the n values ending at t.
Series sd_sample(const Series& x, int64_t n) {
  Series out(x.size(), kNaN);
  for (int64_t t = 0; t < static_cast<int64_t>(x.size()); ++t) {
    const Series w = window(x, t, n);
    if (!w.empty()) out[t] = std::sqrt(sum_sq_dev(w) / static_cast<double>(n - 1));
  }
  return out;
}

// Sum over the n values ending at t.
Series rolling_sum(const Series& x, int64_t n) {
  Series out(x.size(), kNaN);
  for (int64_t t = 0; t < static_cast<int64_t>(x.size()); ++t) {
    const Series w = window(x, t, n);
    if (w.empty()) continue;
    out[t] = 0.0;
    for (double value : w) out[t] += value;
  }
  return out;
}

// TTR's exponential smoothing with factor a: x is undefined (NaN) before its first defined index
// f and defined from there on; the first output, at f + n - 1, is the mean of x[f .. f + n - 1],
// then e_t = a x_t + (1 - a) e_{t-1}.
Series smooth_ttr(const Series& x, int64_t n, double a) {
  const int64_t size = static_cast<int64_t>(x.size());
  Series out(x.size(), kNaN);
  int64_t f = 0;
  while (f < size && std::isnan(x[f])) ++f;
  const int64_t seed = f + n - 1;
  if (seed >= size) return out;
  out[seed] = mean_of(window(x, seed, n));
  for (int64_t t = seed + 1; t < size; ++t) out[t] = a * x[t] + (1.0 - a) * out[t - 1];
  return out;
}

// EMA_n (TTR, a = 2 / (n + 1)).
Series ema_ttr(const Series& x, int64_t n) { return smooth_ttr(x, n, 2.0 / static_cast<double>(n + 1)); }

// Wilder smoothing (TTR's EMA with wilder = TRUE, a = 1 / n).
Series wilder(const Series& x, int64_t n) { return smooth_ttr(x, n, 1.0 / static_cast<double>(n)); }

// r_t = ln(c_t / c_{t-1}); NaN at the segment's first bar.
Series log_returns(const Series& c) {
  Series r(c.size(), kNaN);
  for (size_t t = 1; t < c.size(); ++t) r[t] = std::log(c[t] / c[t - 1]);
  return r;
}

// c_t - c_{t-1}; NaN at the segment's first bar.
Series changes(const Series& c) {
  Series d(c.size(), kNaN);
  for (size_t t = 1; t < c.size(); ++t) d[t] = c[t] - c[t - 1];
  return d;
}

// logret_k: ln(c_t / c_{t-k}), warm-up k.
Series feature_logret(const Bars& b, int64_t k) {
  Series out(b.c.size(), kNaN);
  for (int64_t t = k; t < b.size(); ++t) out[t] = std::log(b.c[t] / b.c[t - k]);
  return out;
}

// vol_20: sample sd of r over the 20 bars ending at t (warm-up 20: r starts at bar 1).
Series feature_vol_20(const Bars& b) { return sd_sample(log_returns(b.c), 20); }

// rsi_14: 100 U / (U + D) with U, D the Wilder(14) averages of the positive and negative parts of
// the changes. Where U + D == 0 (no price change over the whole smoothing history, e.g. a flat
// series) the ratio is 0/0; the reference defines it as 50, the neutral value.
Series feature_rsi_14(const Bars& b) {
  const Series d = changes(b.c);
  Series up(d.size(), kNaN), down(d.size(), kNaN);
  for (size_t t = 1; t < d.size(); ++t) {
    up[t] = std::max(d[t], 0.0);
    down[t] = std::max(-d[t], 0.0);
  }
  const Series u = wilder(up, 14), dn = wilder(down, 14);
  Series out(d.size(), kNaN);
  for (size_t t = 0; t < d.size(); ++t) {
    if (std::isnan(u[t])) continue;
    const double total = u[t] + dn[t];
    out[t] = total == 0.0 ? 50.0 : 100.0 * u[t] / total;
  }
  return out;
}

// macd_12_26: 100 (EMA_12(c) / EMA_26(c) - 1), warm-up 25.
Series macd_line(const Bars& b) {
  const Series fast = ema_ttr(b.c, 12), slow = ema_ttr(b.c, 26);
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) out[t] = 100.0 * (fast[t] / slow[t] - 1.0);
  return out;
}

// macd_signal_9: EMA_9 of the MACD line, seeded at its first value (warm-up 25 + 8 = 33).
Series feature_macd_signal_9(const Bars& b) { return ema_ttr(macd_line(b), 9); }

// bb_pctb_20: (c - (m - 2 s)) / (4 s), m = SMA_20(c), s = population sd of c over 20 bars. Where
// s == 0 (20 equal closes) the ratio is 0/0; the reference defines it as 0.5, the band's centre.
Series feature_bb_pctb_20(const Bars& b) {
  const Series m = sma(b.c, 20), s = sd_pop(b.c, 20);
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) {
    if (std::isnan(m[t])) continue;
    out[t] = s[t] == 0.0 ? 0.5 : (b.c[t] - (m[t] - 2.0 * s[t])) / (4.0 * s[t]);
  }
  return out;
}

// atr_14_rel: Wilder(14) of TR_t = max(h_t, c_{t-1}) - min(l_t, c_{t-1}) (TR from bar 1, so the
// seed is the mean of TR over bars 1..14 and the warm-up 14), divided by c_t.
Series feature_atr_14_rel(const Bars& b) {
  Series tr(b.c.size(), kNaN);
  for (size_t t = 1; t < tr.size(); ++t)
    tr[t] = std::max(b.h[t], b.c[t - 1]) - std::min(b.l[t], b.c[t - 1]);
  const Series atr = wilder(tr, 14);
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) out[t] = atr[t] / b.c[t];
  return out;
}

// sma_n_rel: c / SMA_n(c) - 1, warm-up n - 1.
Series feature_sma_rel(const Bars& b, int64_t n) {
  const Series m = sma(b.c, n);
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) out[t] = b.c[t] / m[t] - 1.0;
  return out;
}

// range_rel: (h - l) / c, warm-up 0.
Series feature_range_rel(const Bars& b) {
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) out[t] = (b.h[t] - b.l[t]) / b.c[t];
  return out;
}

// gap: o_t / c_{t-1} - 1, warm-up 1.
Series feature_gap(const Bars& b) {
  Series out(b.c.size(), kNaN);
  for (size_t t = 1; t < out.size(); ++t) out[t] = b.o[t] / b.c[t - 1] - 1.0;
  return out;
}

// volume_z_20: (x_t - SMA_20(x)) / sd(x) over 20 bars, x = ln(1 + v); 0 where sd == 0.
Series feature_volume_z_20(const Bars& b) {
  Series x(b.v.size());
  for (size_t t = 0; t < x.size(); ++t) x[t] = std::log1p(b.v[t]);
  const Series m = sma(x, 20), s = sd_sample(x, 20);
  Series out(x.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) {
    if (std::isnan(m[t])) continue;
    out[t] = s[t] == 0.0 ? 0.0 : (x[t] - m[t]) / s[t];
  }
  return out;
}

// obv_rel_20: sum sign(c_s - c_{s-1}) v_s / sum v_s over the 20 bars s ending at t (s >= 1, so
// warm-up 20); 0 where the volume sum is 0.
Series feature_obv_rel_20(const Bars& b) {
  const Series d = changes(b.c);
  Series signed_v(d.size(), kNaN), v(d.size(), kNaN);
  for (size_t t = 1; t < d.size(); ++t) {
    const double sign = d[t] > 0.0 ? 1.0 : (d[t] < 0.0 ? -1.0 : 0.0);
    signed_v[t] = sign * b.v[t];
    v[t] = b.v[t];
  }
  const Series num = rolling_sum(signed_v, 20), den = rolling_sum(v, 20);
  Series out(d.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t) {
    if (std::isnan(den[t])) continue;
    out[t] = den[t] == 0.0 ? 0.0 : num[t] / den[t];
  }
  return out;
}

// clv: ((c - l) - (h - c)) / (h - l), TTR's CLV; 0 where h == l (TTR sets the NaN to 0). Warm-up 0.
Series feature_clv(const Bars& b) {
  Series out(b.c.size(), kNaN);
  for (size_t t = 0; t < out.size(); ++t)
    out[t] = b.h[t] == b.l[t] ? 0.0 : ((b.c[t] - b.l[t]) - (b.h[t] - b.c[t])) / (b.h[t] - b.l[t]);
  return out;
}

// vol_60: sample sd of r over the 60 bars ending at t (warm-up 60).
Series feature_vol_60(const Bars& b) { return sd_sample(log_returns(b.c), 60); }

// high_20_rel: c / max(h over the 20 bars ending at t) - 1, TTR runMax; warm-up 19.
Series feature_high_20_rel(const Bars& b) {
  Series out(b.c.size(), kNaN);
  for (size_t t = 19; t < out.size(); ++t) {
    double top = b.h[t - 19];
    for (size_t s = t - 18; s <= t; ++s) top = std::max(top, b.h[s]);
    out[t] = b.c[t] / top - 1.0;
  }
  return out;
}

// Every feature of one segment, in kFeatureNames order.
std::vector<Series> segment_features(const Bars& b) {
  return {feature_logret(b, 1),       feature_logret(b, 5),       feature_logret(b, 10),
          feature_logret(b, 20),      feature_vol_20(b),          feature_rsi_14(b),
          macd_line(b),               feature_macd_signal_9(b),   feature_bb_pctb_20(b),
          feature_atr_14_rel(b),      feature_sma_rel(b, 20),     feature_sma_rel(b, 50),
          feature_range_rel(b),       feature_gap(b),             feature_volume_z_20(b),
          feature_obv_rel_20(b),      feature_clv(b),             feature_logret(b, 60),
          feature_vol_60(b),          feature_high_20_rel(b)};
}

}  // namespace

void reference_features(const TickerSeries& s, double* out) {
  std::fill(out, out + s.bars * kFeatureCount, kNaN);
  for (const Segment& seg : find_segments(s)) {
    const std::vector<Series> columns = segment_features(adjusted_bars(s, seg));
    TS_CHECK(static_cast<int64_t>(columns.size()) == kFeatureCount, "reference: {} feature columns, expected {}",
             columns.size(), kFeatureCount);
    for (int64_t f = 0; f < kFeatureCount; ++f)
      for (int64_t t = seg.begin; t < seg.end; ++t) out[t * kFeatureCount + f] = columns[f][t - seg.begin];
  }
}

void reference_labels(const TickerSeries& s, int64_t horizon, double* out) {
  TS_REQUIRE_INPUT(horizon >= 1, "label horizon must be >= 1, got {}", horizon);
  std::fill(out, out + s.bars * kLabelCount, kNaN);
  for (const Segment& seg : find_segments(s)) {
    const Bars b = adjusted_bars(s, seg);
    for (int64_t t = 0; t + horizon < b.size(); ++t) {
      const double fwd = std::log(b.c[t + horizon] / b.c[t]);
      out[(seg.begin + t) * kLabelCount + 0] = fwd;
      out[(seg.begin + t) * kLabelCount + 1] = std::isnan(fwd) ? kNaN : (fwd > 0.0 ? 1.0 : 0.0);
    }
  }
}

}  // namespace tickstream
