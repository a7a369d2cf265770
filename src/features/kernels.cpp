// Kokkos feature and label kernels: parallel over tickers, sequential in time within a ticker.
#include "features/kernels.hpp"

#include <cstdlib>
#include <limits>

#include "features/feature_kernel.hpp"

namespace tickstream {
namespace kernels {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Window features of bar t at position p of its segment (p bars precede it in the segment).
KOKKOS_INLINE_FUNCTION void window_features(const Prices& px, int64_t t, int64_t p, double* f) {
  const double c = px.c(t);
  const int64_t lags[4] = {1, 5, 10, 20};
  for (int k = 0; k < 4; ++k) f[kLogret1 + k] = p >= lags[k] ? std::log(c / px.c(t - lags[k])) : kNaN;
  f[kRangeRel] = (px.h(t) - px.l(t)) / c;
  f[kGap] = p >= 1 ? px.o(t) / px.c(t - 1) - 1.0 : kNaN;
  if (p >= 20) {
    const auto r = window_moments(t, 20, [&](int64_t s) { return std::log(px.c(s) / px.c(s - 1)); });
    f[kVol20] = std::sqrt(r.ss / 19.0);
    double flow = 0, volume = 0;
    for (int64_t s = t - 19; s <= t; ++s) {
      const double d = px.c(s) - px.c(s - 1);
      flow += (d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0)) * px.v(s);
      volume += px.v(s);
    }
    f[kObvRel] = volume > 0 ? flow / volume : 0.0;
  }
  if (p >= 19) {
    const auto m = window_moments(t, 20, [&](int64_t s) { return px.c(s); });
    const double sd = std::sqrt(m.ss / 20.0);
    f[kBbPctb] = sd > 0 ? (c - (m.mean - 2.0 * sd)) / (4.0 * sd) : 0.5;
    f[kSma20Rel] = c / m.mean - 1.0;
    const auto x = window_moments(t, 20, [&](int64_t s) { return std::log1p(px.v(s)); });
    const double sdx = std::sqrt(x.ss / 19.0);
    f[kVolumeZ] = sdx > 0 ? (std::log1p(px.v(t)) - x.mean) / sdx : 0.0;
  }
  if (p >= 49) f[kSma50Rel] = c / window_moments(t, 50, [&](int64_t s) { return px.c(s); }).mean - 1.0;
}

// Recursive features (EMA, Wilder) of bar t at segment position p; advances the state.
KOKKOS_INLINE_FUNCTION void recursive_features(const Prices& px, int64_t t, int64_t p, SegmentState& st, double* f) {
  const double c = px.c(t);
  const bool fast = st.ema12.add(c);
  if (st.ema26.add(c) && fast) {
    f[kMacd] = 100.0 * (st.ema12.value / st.ema26.value - 1.0);
    if (st.signal9.add(f[kMacd])) f[kMacdSignal] = st.signal9.value;
  }
  if (p < 1) return;
  const double prev = px.c(t - 1);
  const double d = c - prev;
  const bool up_ready = st.up14.add(d > 0 ? d : 0.0);
  if (st.down14.add(d < 0 ? -d : 0.0) && up_ready) {
    const double total = st.up14.value + st.down14.value;
    f[kRsi14] = total > 0 ? 100.0 * st.up14.value / total : 50.0;
  }
  const double hi = px.h(t) > prev ? px.h(t) : prev;
  const double lo = px.l(t) < prev ? px.l(t) : prev;
  if (st.atr14.add(hi - lo)) f[kAtrRel] = st.atr14.value / c;
}

template <typename Scalar>
struct FeatureFunctor {
  RawViews raw;
  Cube<Scalar> out;
  Matrix<uint8_t> valid;

  KOKKOS_INLINE_FUNCTION void operator()(const int64_t i) const {
    const Prices px{raw, i};
    SegmentState st;
    int64_t p = 0;  // position in the current gap-free segment
    for (int64_t t = 0; t < static_cast<int64_t>(raw.close.extent(1)); ++t) {
      double f[kFeatureCount];
      for (double& x : f) x = kNaN;
      if (!raw.valid(i, t)) {
        p = 0;
      } else {
        if (p == 0) st.reset();
        window_features(px, t, p, f);
        recursive_features(px, t, p, st, f);
        ++p;
      }
      bool all = raw.valid(i, t) != 0;
      for (int64_t k = 0; k < kFeatureCount; ++k) {
        out(i, t, k) = static_cast<Scalar>(f[k]);
        all = all && std::isfinite(f[k]);
      }
      valid(i, t) = all ? 1 : 0;
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

template <typename Scalar>
void compute_features(const RawViews& raw, const Cube<Scalar>& features, const Matrix<uint8_t>& valid) {
  Kokkos::parallel_for("tickstream::features", Kokkos::RangePolicy<ExecSpace>(0, raw.close.extent(0)),
                       kernels::FeatureFunctor<Scalar>{raw, features, valid});
  Kokkos::fence();
}

template <typename Scalar>
void compute_labels(const RawViews& raw, int64_t horizon, const Cube<Scalar>& labels, const Matrix<uint8_t>& valid) {
  Kokkos::parallel_for("tickstream::labels", Kokkos::RangePolicy<ExecSpace>(0, raw.close.extent(0)),
                       kernels::LabelFunctor<Scalar>{raw, horizon, labels, valid});
  Kokkos::fence();
}

template void compute_features<float>(const RawViews&, const Cube<float>&, const Matrix<uint8_t>&);
template void compute_features<double>(const RawViews&, const Cube<double>&, const Matrix<uint8_t>&);
template void compute_labels<float>(const RawViews&, int64_t, const Cube<float>&, const Matrix<uint8_t>&);
template void compute_labels<double>(const RawViews&, int64_t, const Cube<double>&, const Matrix<uint8_t>&);

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
void download(const Kokkos::View<T*, Kokkos::LayoutRight, MemSpace>& flat, std::vector<T>& host) {
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

FeatureBlock compute_feature_block(const RawBlock& block, int64_t horizon) {
  ensure_kokkos();
  const RawViews raw = to_device(block);
  const auto n = static_cast<size_t>(block.rows), t = static_cast<size_t>(block.bars);
  Kokkos::View<float*, Kokkos::LayoutRight, MemSpace> f("features", n * t * kFeatureCount), l("labels", n * t * kLabelCount);
  Kokkos::View<uint8_t*, Kokkos::LayoutRight, MemSpace> fv("feature_valid", n * t), lv("label_valid", n * t);
  compute_features<float>(raw, Cube<float>(f.data(), n, t, kFeatureCount), Matrix<uint8_t>(fv.data(), n, t));
  compute_labels<float>(raw, horizon, Cube<float>(l.data(), n, t, kLabelCount), Matrix<uint8_t>(lv.data(), n, t));
  FeatureBlock out;
  download(f, out.features), download(fv, out.feature_valid), download(l, out.labels), download(lv, out.label_valid);
  return out;
}

void ensure_kokkos() {
  if (Kokkos::is_initialized()) return;
  Kokkos::initialize();
  std::atexit([] { Kokkos::finalize(); });
}

}  // namespace tickstream
