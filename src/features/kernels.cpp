// Kokkos feature and label kernels: parallel over tickers, sequential in time within a ticker.
#include "features/kernels.hpp"

#include <cstdlib>
#include <type_traits>
#include <limits>

#include "core/host_threads.hpp"
#include "features/feature_kernel.hpp"

namespace tickstream {
namespace kernels {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-ticker streaming state: the recursive indicators plus short histories of the per-bar
// derived series (adjusted close, log return, its running sum, log1p volume, signed volume), so
// every log/log1p/division is computed once per bar and windows read contiguous values.
struct TickerState {
  SegmentState st;
  History<64> c;    // adjusted close (sma_50 needs 50, logret_20 needs c_{t-20})
  History<64> r;    // ln(c_t / c_{t-1}) (vol_60 needs 60)
  History<64> cum;  // running sum of r since the last non-finite r (logret_k as differences)
  History<32> h;    // adjusted high (high_20_rel)
  History<32> x;    // ln(1 + v)
  History<32> sv;   // sign(c_t - c_{t-1}) v_t
  History<32> v;    // volume
  EqualRun run_c, run_r, run_x;
  SlidingSquares<20> sq20;  // of r: vol_20
  SlidingSquares<60> sq60;  // of r: vol_60
  double cum_r = 0, sum50 = 0;
  int64_t last_bad = -1;  // last position whose r is not finite (cum restarts there)

  KOKKOS_INLINE_FUNCTION void reset() {
    st.reset();
    run_c.reset(), run_r.reset(), run_x.reset();
    sq20.reset(), sq60.reset();
    cum_r = 0, sum50 = 0, last_bad = -1;
  }
};

// The longer-window additions (clv, logret_60, vol_60, high_20_rel); run after bar_features, which
// has pushed this bar's close, return and running sum.
KOKKOS_INLINE_FUNCTION void long_features(TickerState& s, int64_t p, double c, double h, double l, double* f) {
  s.h.push(p, h);
  f[kClv] = h == l ? 0.0 : ((c - l) - (h - c)) / (h - l);
  if (p >= 19) {
    const double* w = s.h.window(p, 20);
    double top = w[0];
    for (int j = 1; j < 20; ++j) top = w[j] > top ? w[j] : top;
    f[kHigh20Rel] = c / top - 1.0;
  }
  if (p < 60) return;
  f[kLogret60] = s.last_bad > p - 60 ? std::log(c / s.c.at(p - 60)) : s.cum_r - s.cum.at(p - 60);
  const double ss = s.sq60.update(p, s.r.window(p, 60), s.r.at(p - 60), s.last_bad <= p - 60);
  f[kVol60] = s.run_r.run >= 60 ? 0.0 : std::sqrt(ss / 59.0);
}

// Pushes this bar's derived series (close, log return, running sum, log1p volume, signed
// volume) and sets the per-bar and lag features: range_rel, logret_1/5/10/20, gap.
KOKKOS_INLINE_FUNCTION void push_series_and_lags(TickerState& s, int64_t p, double c, double o, double h, double l, double vol,
                                         double* f) {
  const double prev = p >= 1 ? s.c.at(p - 1) : kNaN;
  // sma_50's sum slides; it is refreshed by a plain forward sum every 32 bars.
  s.sum50 += c;
  if (p >= 50) s.sum50 -= s.c.at(p - 50);
  s.c.push(p, c), s.run_c.push(c);
  const double x = std::log1p(vol);
  s.x.push(p, x), s.run_x.push(x), s.v.push(p, vol);
  f[kRangeRel] = (h - l) / c;
  if (p >= 1) {
    const double r = std::log(c / prev);
    s.r.push(p, r), s.run_r.push(r);
    if (std::isfinite(r)) {
      s.cum_r += r;
    } else {
      s.cum_r = 0, s.last_bad = p;
    }
    const double d = c - prev;
    s.sv.push(p, (d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0)) * vol);
    f[kLogret1] = r;
    f[kGap] = o / prev - 1.0;
  }
  s.cum.push(p, s.cum_r);
  // logret_k = sum of the last k returns, as a difference of running sums (direct log where a
  // non-finite return lies in the window).
  const int64_t lags[3] = {5, 10, 20};
  for (int k = 0; k < 3; ++k) {
    const int64_t lag = lags[k];
    if (p >= lag)
      f[kLogret5 + k] = s.last_bad > p - lag ? std::log(c / s.c.at(p - lag)) : s.cum_r - s.cum.at(p - lag);
  }
}

// The 20-bar window features (bb_pctb_20, sma_20_rel, volume_z_20; vol_20 and obv_rel_20 from
// p >= 20), for p >= 19.
KOKKOS_INLINE_FUNCTION void window20_features(TickerState& s, int64_t p, double c, double* f) {
  const double x = s.x.at(p);
  // One pass for the sums of every 20-bar window, one for the squared deviations (the same
  // order of operations as the reference); at p == 19 the r/sv/v windows are not used.
  const double* wc = s.c.window(p, 20);
  const double* wx = s.x.window(p, 20);
  const double* wsv = s.sv.window(p, 20);
  const double* wv = s.v.window(p, 20);
  // sc and sx keep the reference's forward order (their means feed (c - m) / sd in windows
  // that may be flat to a few ulps); signed and plain volume only feed a well-conditioned ratio,
  // so they are summed over 4 accumulators; the returns' squares slide (SlidingSquares).
  double sc = 0, sx = 0;
  for (int j = 0; j < 20; ++j) sc += wc[j], sx += wx[j];
  double flow4[4] = {0, 0, 0, 0}, volume4[4] = {0, 0, 0, 0};
  for (int j = 0; j < 20; j += 4) {
    for (int u = 0; u < 4; ++u) flow4[u] += wsv[j + u], volume4[u] += wv[j + u];
  }
  const double flow = (flow4[0] + flow4[1]) + (flow4[2] + flow4[3]);
  const double volume = (volume4[0] + volume4[1]) + (volume4[2] + volume4[3]);
  const double mc = sc / 20.0, mx = sx / 20.0;
  // Squared deviations are non-negative, so splitting their sums over 4 accumulators only
  // changes the last bits (no cancellation) while cutting the dependency chains.
  double ssc4[4] = {0, 0, 0, 0}, ssx4[4] = {0, 0, 0, 0};
  for (int j = 0; j < 20; j += 4) {
    for (int u = 0; u < 4; ++u) {
      ssc4[u] += (wc[j + u] - mc) * (wc[j + u] - mc);
      ssx4[u] += (wx[j + u] - mx) * (wx[j + u] - mx);
    }
  }
  double ssc = (ssc4[0] + ssc4[1]) + (ssc4[2] + ssc4[3]);
  double ssx = (ssx4[0] + ssx4[1]) + (ssx4[2] + ssx4[3]);
  // the r window is defined from p == 20 (r starts at position 1)
  double ssr = p >= 20 ? s.sq20.update(p, s.r.window(p, 20), s.r.at(p - 20), s.last_bad <= p - 20) : 0.0;
  // A window of equal values has exactly 0 sd.
  if (s.run_c.run >= 20) ssc = 0;
  if (s.run_x.run >= 20) ssx = 0;
  if (s.run_r.run >= 20) ssr = 0;
  const double sd = std::sqrt(ssc * (1.0 / 20.0));
  f[kBbPctb] = sd == 0.0 ? 0.5 : (c - (mc - 2.0 * sd)) / (4.0 * sd);
  f[kSma20Rel] = c / mc - 1.0;
  const double sdx = std::sqrt(ssx * (1.0 / 19.0));
  f[kVolumeZ] = sdx == 0.0 ? 0.0 : (x - mx) / sdx;
  if (p >= 20) {
    f[kVol20] = std::sqrt(ssr * (1.0 / 19.0));
    f[kObvRel] = volume == 0.0 ? 0.0 : flow / volume;
  }
}

// sma_50_rel for p >= 49: a sliding sum, refreshed by a plain forward sum every 32 bars.
KOKKOS_INLINE_FUNCTION void sma50_feature(TickerState& s, int64_t p, double c, double* f) {
  if ((p & 31) == 0) {
    const double* w = s.c.window(p, 50);
    s.sum50 = 0;
    for (int j = 0; j < 50; ++j) s.sum50 += w[j];
  }
  f[kSma50Rel] = c / (s.sum50 / 50.0) - 1.0;
}

// Recursive features (EMA, Wilder): macd_12_26, macd_signal_9, rsi_14, atr_14_rel.
KOKKOS_INLINE_FUNCTION void recursive_features(TickerState& s, int64_t p, double c, double h, double l, double* f) {
  const double prev = p >= 1 ? s.c.at(p - 1) : kNaN;
  SegmentState& st = s.st;
  const bool fast = st.ema12.add(c);
  if (st.ema26.add(c) && fast) {
    f[kMacd] = 100.0 * (st.ema12.value / st.ema26.value - 1.0);
    if (st.signal9.add(f[kMacd])) f[kMacdSignal] = st.signal9.value;
  }
  if (p < 1) return;
  const double d = c - prev;
  const bool up_ready = st.up14.add(d > 0 ? d : 0.0);
  if (st.down14.add(d < 0 ? -d : 0.0) && up_ready) {
    const double total = st.up14.value + st.down14.value;
    f[kRsi14] = total > 0 ? 100.0 * st.up14.value / total : 50.0;
  }
  const double hi = h > prev ? h : prev;
  const double lo = l < prev ? l : prev;
  if (st.atr14.add(hi - lo)) f[kAtrRel] = st.atr14.value / c;
}

// Features of the valid bar at segment position p with adjusted prices c, o, h, l and volume vol.
KOKKOS_INLINE_FUNCTION void bar_features(TickerState& s, int64_t p, double c, double o, double h, double l, double vol,
                                         double* f) {
  push_series_and_lags(s, p, c, o, h, l, vol, f);
  if (p >= 19) window20_features(s, p, c, f);
  if (p >= 49) sma50_feature(s, p, c, f);
  recursive_features(s, p, c, h, l, f);
}

template <typename Scalar>
struct FeatureFunctor {
  RawViews raw;
  Cube<Scalar> out;
  Matrix<uint8_t> valid;
  bool skip_gaps;  // Gaps::skip: a missing bar does not restart the ticker's series

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    TickerState s{};
    const bool has_adj = raw.adj_close.extent(0) != 0;
    int64_t p = 0;  // position among the segment's valid bars (skip: all of the ticker's valid bars)
    for (int64_t t = 0; t < static_cast<int64_t>(raw.close.extent(1)); ++t) {
      double f[kFeatureCount];
      for (double& x : f) x = kNaN;
      const bool bar_valid = raw.valid(i, t) != 0;
      if (!bar_valid) {
        if (!skip_gaps) p = 0;
      } else {
        if (p == 0) s.reset();
        const double close = raw.close(i, t);
        double factor = 1.0;
        if (has_adj) {
          const double a = raw.adj_close(i, t);
          if (std::isfinite(a)) factor = a / close;
        }
        const double c = close * factor, h = raw.high(i, t) * factor, l = raw.low(i, t) * factor;
        bar_features(s, p, c, raw.open(i, t) * factor, h, l, raw.volume(i, t), f);
        long_features(s, p, c, h, l, f);
        ++p;
      }
      bool all = bar_valid;
      for (int64_t k = 0; k < kFeatureCount; ++k) {
        out(i, t, k) = static_cast<Scalar>(f[k]);
        all = all && std::isfinite(f[k]);
      }
      valid(i, t) = all ? 1 : 0;
    }
  }
};

// Labels over the ticker's own bars: from valid bar t to its horizon-th valid bar after t (two
// pointers walking forward: O(T) per ticker).
template <typename Scalar>
struct SkipLabelFunctor {
  RawViews raw;
  int64_t horizon;
  Cube<Scalar> out;
  Matrix<uint8_t> valid;

  KOKKOS_INLINE_FUNCTION int64_t next_valid(int64_t i, int64_t j) const {
    const int64_t bars = static_cast<int64_t>(raw.close.extent(1));
    for (++j; j < bars && !raw.valid(i, j);) ++j;
    return j;
  }
  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    const Prices px{raw, i};
    const int64_t bars = static_cast<int64_t>(raw.close.extent(1));
    int64_t ahead = -1;  // the horizon-th valid bar after the current valid bar (bars: none)
    for (int64_t t = 0; t < bars; ++t) {
      bool ok = false;
      double r = kNaN;
      if (raw.valid(i, t)) {
        if (ahead < 0) {
          ahead = t;
          for (int64_t k = 0; k < horizon; ++k) ahead = next_valid(i, ahead);
        } else {
          ahead = ahead < bars ? next_valid(i, ahead) : bars;
        }
        ok = ahead < bars;
        r = ok ? std::log(px.c(ahead) / px.c(t)) : kNaN;
      }
      out(i, t, 0) = static_cast<Scalar>(r);
      out(i, t, 1) = static_cast<Scalar>(ok ? (r > 0 ? 1.0 : 0.0) : kNaN);
      valid(i, t) = ok && std::isfinite(r) ? 1 : 0;
    }
  }
};

template <typename Scalar>
struct LabelFunctor {
  RawViews raw;
  int64_t horizon;
  Cube<Scalar> out;
  Matrix<uint8_t> valid;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    const Prices px{raw, i};
    const int64_t bars = static_cast<int64_t>(raw.close.extent(1));
    int64_t run = 0;  // valid bars from t onwards, counted backwards
    for (int64_t t = bars - 1; t >= 0; --t) {
      run = raw.valid(i, t) ? run + 1 : 0;
      const bool ok = run > horizon;  // bars t..t+horizon all valid
      const double r = ok ? std::log(px.c(t + horizon) / px.c(t)) : kNaN;
      out(i, t, 0) = static_cast<Scalar>(r);
      out(i, t, 1) = static_cast<Scalar>(ok ? (r > 0 ? 1.0 : 0.0) : kNaN);
      valid(i, t) = ok && std::isfinite(r) ? 1 : 0;
    }
  }
};

}  // namespace kernels

// Runs `f(i)` for i in [0, n): a named Kokkos kernel, or with the Serial backend and threads > 1,
// contiguous ranges of i on host threads (each i is an independent ticker).
template <typename Functor>
void for_each_ticker(const char* name, int64_t n, const Functor& f, int threads) {
  if constexpr (std::is_same_v<ExecSpace, Kokkos::Serial>) {
    if (threads > 1 && n > 1) {
      parallel_ranges(n, threads, [&f](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) f(i);
      });
      return;
    }
  }
  Kokkos::parallel_for(name, Kokkos::RangePolicy<ExecSpace>(0, n), f);
  Kokkos::fence();
}

template <typename Scalar>
void compute_features(const RawViews& raw, const Cube<Scalar>& features, const Matrix<uint8_t>& valid, Gaps gaps,
                      int threads) {
  for_each_ticker("tickstream::features", static_cast<int64_t>(raw.close.extent(0)),
                  kernels::FeatureFunctor<Scalar>{raw, features, valid, gaps == Gaps::skip}, threads);
}

template <typename Scalar>
void compute_labels(const RawViews& raw, int64_t horizon, const Cube<Scalar>& labels, const Matrix<uint8_t>& valid,
                    Gaps gaps, int threads) {
  const auto n = static_cast<int64_t>(raw.close.extent(0));
  if (gaps == Gaps::skip) {
    for_each_ticker("tickstream::labels_skip", n, kernels::SkipLabelFunctor<Scalar>{raw, horizon, labels, valid}, threads);
  } else {
    for_each_ticker("tickstream::labels", n, kernels::LabelFunctor<Scalar>{raw, horizon, labels, valid}, threads);
  }
}

template void compute_features<float>(const RawViews&, const Cube<float>&, const Matrix<uint8_t>&, Gaps, int);
template void compute_features<double>(const RawViews&, const Cube<double>&, const Matrix<uint8_t>&, Gaps, int);
template void compute_labels<float>(const RawViews&, int64_t, const Cube<float>&, const Matrix<uint8_t>&, Gaps, int);
template void compute_labels<double>(const RawViews&, int64_t, const Cube<double>&, const Matrix<uint8_t>&, Gaps, int);

namespace {

template <typename T>
Matrix<const T> upload(const std::vector<T>& host, int64_t rows, int64_t bars, const char* name) {
  Kokkos::View<const T**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> view(
      host.data(), host.empty() ? 0 : rows, host.empty() ? 0 : bars);
  Matrix<T> dev(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(name)), view.extent(0), view.extent(1));
  Kokkos::deep_copy(dev, view);
  return dev;
}

template <typename T>
void download(const Kokkos::View<T*, Kokkos::LayoutRight, MemSpace>& flat, HostBuffer<T>& host) {
  host.resize(flat.extent(0));
  Kokkos::deep_copy(Kokkos::View<T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(host.data(), host.size()), flat);
}

}  // namespace

RawViews to_device(const RawBlock& b) {
  return {upload(b.open, b.rows, b.bars, "open"),     upload(b.high, b.rows, b.bars, "high"),
          upload(b.low, b.rows, b.bars, "low"),       upload(b.close, b.rows, b.bars, "close"),
          upload(b.volume, b.rows, b.bars, "volume"), upload(b.adj_close, b.rows, b.bars, "adj_close"),
          upload(b.valid, b.rows, b.bars, "valid")};
}

namespace {

// The block's vectors as views the execution space reads in place (host-accessible spaces).
template <typename T>
Matrix<const T> host_view(const std::vector<T>& v, int64_t rows, int64_t bars) {
  return Matrix<const T>(v.data(), v.empty() ? 0 : rows, v.empty() ? 0 : bars);
}

RawViews host_views(const RawBlock& b) {
  return {host_view(b.open, b.rows, b.bars),   host_view(b.high, b.rows, b.bars),   host_view(b.low, b.rows, b.bars),
          host_view(b.close, b.rows, b.bars),  host_view(b.volume, b.rows, b.bars), host_view(b.adj_close, b.rows, b.bars),
          host_view(b.valid, b.rows, b.bars)};
}

// The kernels straight into the result's vectors (host-accessible execution spaces).
void compute_in_place(const RawBlock& block, int64_t horizon, Gaps gaps, FeatureBlock& out, FeatureTimings& tm,
                      int threads) {
  Kokkos::Timer timer;
  const auto lap = [&timer](double& into) { into += timer.seconds(), timer.reset(); };
  const RawViews raw = host_views(block);
  const auto n = static_cast<size_t>(block.rows), t = static_cast<size_t>(block.bars);
  out.width = kFeatureCount;
  out.features.resize(n * t * kFeatureCount), out.feature_valid.resize(n * t);
  out.labels.resize(n * t * kLabelCount), out.label_valid.resize(n * t);
  lap(tm.upload_s);
  compute_features<float>(raw, Cube<float>(out.features.data(), n, t, kFeatureCount),
                          Matrix<uint8_t>(out.feature_valid.data(), n, t), gaps, threads);
  lap(tm.features_s);
  compute_labels<float>(raw, horizon, Cube<float>(out.labels.data(), n, t, kLabelCount),
                        Matrix<uint8_t>(out.label_valid.data(), n, t), gaps, threads);
  lap(tm.labels_s);
}

}  // namespace

FeatureBlock compute_feature_block(const RawBlock& block, int64_t horizon, Gaps gaps, FeatureTimings* timings,
                                   int threads) {
  FeatureBlock out;
  compute_feature_block_into(block, horizon, gaps, out, timings, threads);
  return out;
}

void compute_feature_block_into(const RawBlock& block, int64_t horizon, Gaps gaps, FeatureBlock& out,
                                FeatureTimings* timings, int threads) {
  ensure_kokkos();
  FeatureTimings local;
  FeatureTimings& tm = timings ? *timings : local;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible)
    return compute_in_place(block, horizon, gaps, out, tm, threads);
  Kokkos::Timer timer;
  const auto lap = [&timer](double& into) { into += timer.seconds(), timer.reset(); };
  const RawViews raw = to_device(block);
  const auto n = static_cast<size_t>(block.rows), t = static_cast<size_t>(block.bars);
  Kokkos::View<float*, Kokkos::LayoutRight, MemSpace> f(Kokkos::view_alloc(Kokkos::WithoutInitializing, "features"),
                                                        n * t * kFeatureCount);
  Kokkos::View<float*, Kokkos::LayoutRight, MemSpace> l(Kokkos::view_alloc(Kokkos::WithoutInitializing, "labels"),
                                                        n * t * kLabelCount);
  Kokkos::View<uint8_t*, Kokkos::LayoutRight, MemSpace> fv(Kokkos::view_alloc(Kokkos::WithoutInitializing, "fv"), n * t);
  Kokkos::View<uint8_t*, Kokkos::LayoutRight, MemSpace> lv(Kokkos::view_alloc(Kokkos::WithoutInitializing, "lv"), n * t);
  lap(tm.upload_s);
  compute_features<float>(raw, Cube<float>(f.data(), n, t, kFeatureCount), Matrix<uint8_t>(fv.data(), n, t), gaps);
  lap(tm.features_s);
  compute_labels<float>(raw, horizon, Cube<float>(l.data(), n, t, kLabelCount), Matrix<uint8_t>(lv.data(), n, t), gaps);
  lap(tm.labels_s);
  out.width = kFeatureCount;
  download(f, out.features), download(fv, out.feature_valid), download(l, out.labels), download(lv, out.label_valid);
  lap(tm.download_s);
}

void ensure_kokkos() {
  if (Kokkos::is_initialized()) return;
  Kokkos::initialize();
  std::atexit([] { Kokkos::finalize(); });
}

}  // namespace tickstream
