// Kokkos feature/label kernels vs the serial reference; no lookahead; valid implies finite.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "features/feature_kernel.hpp"
#include "features/kernels.hpp"
#include "features/reference.hpp"
#include "store/synth.hpp"

namespace tickstream {
namespace {

RawBlock synth_block(int64_t tickers, int64_t days, uint64_t seed) {
  SynthSpec spec;
  spec.tickers = tickers, spec.days = days, spec.seed = seed;
  RawBlock b;
  synth_generate(spec, synth_factors(spec, days), 0, tickers, b, nullptr);
  return b;
}

TickerSeries series(const RawBlock& b, int64_t row) {
  const size_t o = b.index(row, 0);
  return {b.open.data() + o, b.high.data() + o, b.low.data() + o, b.close.data() + o, b.volume.data() + o,
          b.has_adj_close ? b.adj_close.data() + o : nullptr, b.valid.data() + o, b.bars};
}

struct KernelOutput {
  Cube<double> features, labels;
  Matrix<uint8_t> feature_valid, label_valid;
};

KernelOutput run_kernels(const RawBlock& b, int64_t horizon, Gaps gaps = Gaps::strict) {
  ensure_kokkos();
  const RawViews raw = to_device(b);
  KernelOutput k{Cube<double>("f", b.rows, b.bars, kFeatureCount), Cube<double>("l", b.rows, b.bars, kLabelCount),
                 Matrix<uint8_t>("fv", b.rows, b.bars), Matrix<uint8_t>("lv", b.rows, b.bars)};
  compute_features<double>(raw, k.features, k.feature_valid, gaps);
  compute_labels<double>(raw, horizon, k.labels, k.label_valid, gaps);
  return k;
}

// Row r of `b` with its missing bars removed (a one-row block of the ticker's own bars), and the
// bar index of each kept bar.
RawBlock compacted(const RawBlock& b, int64_t r, std::vector<int64_t>& kept) {
  kept.clear();
  for (int64_t t = 0; t < b.bars; ++t)
    if (b.valid[b.index(r, t)]) kept.push_back(t);
  RawBlock c;
  c.resize(0, 1, static_cast<int64_t>(kept.size()), b.has_adj_close);
  for (size_t k = 0; k < kept.size(); ++k) {
    const size_t i = b.index(r, kept[k]);
    c.open[k] = b.open[i], c.high[k] = b.high[i], c.low[k] = b.low[i], c.close[k] = b.close[i];
    c.volume[k] = b.volume[i], c.valid[k] = 1;
    if (b.has_adj_close) c.adj_close[k] = b.adj_close[i];
  }
  return c;
}

bool same(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

TEST(FeatureKernels, MatchTheSerialReferenceWithGapsAndSplits) {
  const RawBlock b = synth_block(60, 700, 5);  // listings, delistings, halts, splits
  for (int64_t horizon : {int64_t{1}, int64_t{5}}) {
    const KernelOutput k = run_kernels(b, horizon);
    const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.features);
    const auto l = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.labels);
    std::vector<double> ref(static_cast<size_t>(b.bars * kFeatureCount)), ref_l(static_cast<size_t>(b.bars * 2));
    int64_t compared = 0;
    for (int64_t r = 0; r < b.rows; ++r) {
      reference_features(series(b, r), ref.data());
      reference_labels(series(b, r), horizon, ref_l.data());
      for (int64_t t = 0; t < b.bars; ++t) {
        for (int64_t j = 0; j < kFeatureCount; ++j) {
          ASSERT_TRUE(same(f(r, t, j), ref[t * kFeatureCount + j]))
              << kFeatureNames[j] << " ticker " << r << " bar " << t << ": " << f(r, t, j) << " vs " << ref[t * kFeatureCount + j];
          compared += std::isfinite(f(r, t, j));
        }
        for (int64_t j = 0; j < 2; ++j)
          ASSERT_TRUE(same(l(r, t, j), ref_l[t * 2 + j])) << "label " << j << " ticker " << r << " bar " << t;
      }
    }
    EXPECT_GT(compared, 60 * 500 * kFeatureCount);
  }
}

// The sliding windows (vol_20, vol_60 slide their sums of squares bar by bar) through non-finite
// returns: a zero close makes two returns infinite; every window holding them, and the windows
// after, still equal the reference's two-pass values (the sums restart from the window).
TEST(FeatureKernels, SlidingWindowsRecoverAfterNonFiniteReturns) {
  RawBlock b = synth_block(4, 400, 8);
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t < b.bars; ++t) {  // listed throughout, then a zero close at bars 150 and 151 + 40 r
      const size_t i = b.index(r, t);
      if (!b.valid[i]) b.open[i] = b.high[i] = b.low[i] = b.close[i] = 10.0 + 0.01 * t, b.volume[i] = 1000, b.valid[i] = 1;
      if (b.has_adj_close) b.adj_close[i] = b.close[i];
      if (t != 150 && t != 151 + 40 * r) continue;
      b.close[i] = b.low[i] = 0.0;
      if (b.has_adj_close) b.adj_close[i] = 0.0;
    }
  const KernelOutput k = run_kernels(b, 1, Gaps::skip);
  const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.features);
  std::vector<double> ref(static_cast<size_t>(b.bars * kFeatureCount));
  int64_t finite_after = 0;
  for (int64_t r = 0; r < b.rows; ++r) {
    reference_features(series(b, r), ref.data());
    for (int64_t t = 0; t < b.bars; ++t)
      for (const int64_t j : {int64_t{kernels::kVol20}, int64_t{kernels::kVol60}}) {
        ASSERT_TRUE(same(f(r, t, j), ref[static_cast<size_t>(t * kFeatureCount + j)]))
            << kFeatureNames[j] << " ticker " << r << " bar " << t << ": " << f(r, t, j) << " vs " << ref[static_cast<size_t>(t * kFeatureCount + j)];
        finite_after += t > 260 && std::isfinite(f(r, t, j));
      }
  }
  EXPECT_GT(finite_after, 4 * 2 * 100);  // the windows after the zero closes are defined again
}

// Gaps::skip: every indicator and label of a gapped series equals the serial reference's over the
// same series with its missing rows removed, at the bars that exist; missing bars stay invalid.
TEST(FeatureKernels, SkipEqualsTheReferenceOverTheTickersOwnBars) {
  RawBlock b = synth_block(24, 500, 11);  // listings, delistings, splits, 0.2% halts
  std::mt19937_64 rng(5);
  for (size_t i = 0; i < b.valid.size(); ++i)
    if (rng() % 50 == 0) b.valid[i] = 0;  // 2% more missing bars, some of them adjacent
  for (int64_t horizon : {int64_t{1}, int64_t{5}}) {
    const KernelOutput k = run_kernels(b, horizon, Gaps::skip);
    const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.features);
    const auto fv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.feature_valid);
    const auto l = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.labels);
    const auto lv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.label_valid);
    int64_t compared = 0;
    std::vector<int64_t> kept;
    for (int64_t r = 0; r < b.rows; ++r) {
      const RawBlock c = compacted(b, r, kept);
      std::vector<double> ref(static_cast<size_t>(c.bars * kFeatureCount)), ref_l(static_cast<size_t>(c.bars * 2));
      reference_features(series(c, 0), ref.data());
      reference_labels(series(c, 0), horizon, ref_l.data());
      for (size_t q = 0; q < kept.size(); ++q) {
        const int64_t t = kept[q];
        for (int64_t j = 0; j < kFeatureCount; ++j) {
          ASSERT_TRUE(same(f(r, t, j), ref[q * kFeatureCount + j]))
              << kFeatureNames[j] << " ticker " << r << " bar " << t << ": " << f(r, t, j) << " vs " << ref[q * kFeatureCount + j];
          compared += std::isfinite(f(r, t, j));
        }
        for (int64_t j = 0; j < 2; ++j)
          ASSERT_TRUE(same(l(r, t, j), ref_l[q * 2 + j])) << "label " << j << " ticker " << r << " bar " << t;
      }
      for (int64_t t = 0; t < b.bars; ++t)
        if (!b.valid[b.index(r, t)]) {
          ASSERT_TRUE(!fv(r, t) && !lv(r, t)) << "missing bar " << t << " is valid";
        }
    }
    EXPECT_GT(compared, 24 * 300 * kFeatureCount);
  }
}

// On a series without missing bars skip and strict are the same computation: the same bytes.
TEST(FeatureKernels, SkipAndStrictAgreeBitForBitWithoutGaps) {
  RawBlock b = synth_block(12, 300, 4);
  for (int64_t r = 0; r < b.rows; ++r)  // every ticker listed throughout, no halts
    for (int64_t t = 0; t < b.bars; ++t) {
      const size_t i = b.index(r, t);
      if (b.valid[i]) continue;
      b.open[i] = b.high[i] = b.low[i] = b.close[i] = 10.0 + t, b.volume[i] = 1000;
      if (b.has_adj_close) b.adj_close[i] = b.close[i];
      b.valid[i] = 1;
    }
  FeatureBlock strict = compute_feature_block(b, 3, Gaps::strict), skip = compute_feature_block(b, 3, Gaps::skip);
  EXPECT_EQ(std::memcmp(strict.features.data(), skip.features.data(), strict.features.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(strict.labels.data(), skip.labels.data(), strict.labels.size() * sizeof(float)), 0);
  EXPECT_EQ(strict.feature_valid, skip.feature_valid);
  EXPECT_EQ(strict.label_valid, skip.label_valid);
}

class NoLookahead : public ::testing::TestWithParam<Gaps> {};

// Changing or removing bars after a cut leaves every feature up to the cut as it was, in both
// modes (skip: on a gapped series).
TEST_P(NoLookahead, ValidMeansFiniteAndFeaturesIgnoreLaterBars) {
  const Gaps gaps = GetParam();
  RawBlock b = synth_block(8, 400, 9);
  const KernelOutput before = run_kernels(b, 3, gaps);
  const auto f0 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), before.features);
  const auto v0 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), before.feature_valid);
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t < b.bars; ++t)
      for (int64_t j = 0; j < kFeatureCount; ++j) {
        if (v0(r, t)) {
          ASSERT_TRUE(std::isfinite(f0(r, t, j)));
        }
      }
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t cut = 60 + static_cast<int64_t>(rng() % 300);
    RawBlock changed = b;
    for (int64_t r = 0; r < b.rows; ++r)
      for (int64_t t = cut + 1; t < b.bars; ++t) {
        const size_t i = b.index(r, t);
        const double scale = 0.5 + std::uniform_real_distribution<double>(0, 1)(rng);
        for (auto* v : {&changed.open, &changed.high, &changed.low, &changed.close, &changed.adj_close}) (*v)[i] *= scale;
        changed.volume[i] *= 3.0;
        if (rng() % 7 == 0) changed.valid[i] = 0;
      }
    const auto f1 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), run_kernels(changed, 3, gaps).features);
    for (int64_t r = 0; r < b.rows; ++r)
      for (int64_t t = 0; t <= cut; ++t)
        for (int64_t j = 0; j < kFeatureCount; ++j)
          ASSERT_TRUE(same(f0(r, t, j), f1(r, t, j)) && (std::isnan(f0(r, t, j)) || f0(r, t, j) == f1(r, t, j)))
              << kFeatureNames[j] << " at bar " << t << " changed when bars after " << cut << " changed";
  }
}

INSTANTIATE_TEST_SUITE_P(Gaps, NoLookahead, ::testing::Values(Gaps::strict, Gaps::skip));

// Gaps::skip: the label at t runs to the ticker's horizon-th bar after t, over a missing bar.
TEST(FeatureKernels, SkipLabelsCountTheTickersOwnBars) {
  RawBlock b;
  b.resize(0, 1, 10, false);
  for (int64_t t = 0; t < 10; ++t) {
    b.open[t] = b.high[t] = b.low[t] = b.close[t] = 100.0 * std::exp(0.01 * t * t);
    b.volume[t] = 1000, b.valid[t] = t != 6;
  }
  const KernelOutput k = run_kernels(b, 2, Gaps::skip);
  const auto l = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.labels);
  const auto v = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.label_valid);
  const std::vector<int> target{2, 3, 4, 5, 7, 8, -1, 9, -1, -1};  // the 2nd own bar after t (bar 6 missing)
  for (int64_t t = 0; t < 10; ++t) {
    EXPECT_EQ(v(0, t), target[t] >= 0) << t;
    if (target[t] >= 0) {
      EXPECT_NEAR(l(0, t, 0), 0.01 * (target[t] * target[t] - t * t), 1e-12) << t;
    }
  }
}

TEST(FeatureKernels, LabelsUseOnlyTheNextBarsOfTheSegment) {
  RawBlock b;
  b.resize(0, 1, 10, false);
  for (int64_t t = 0; t < 10; ++t) {
    b.open[t] = b.high[t] = b.low[t] = b.close[t] = 100.0 * std::exp(0.01 * t * t);
    b.volume[t] = 1000, b.valid[t] = t != 6;
  }
  const KernelOutput k = run_kernels(b, 2);
  const auto l = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.labels);
  const auto v = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k.label_valid);
  const std::vector<int> expect_valid{1, 1, 1, 1, 0, 0, 0, 1, 0, 0};  // bar 6 missing; last 2 bars
  for (int64_t t = 0; t < 10; ++t) {
    EXPECT_EQ(v(0, t), expect_valid[t]) << t;
    if (expect_valid[t]) {
      EXPECT_NEAR(l(0, t, 0), 0.01 * ((t + 2) * (t + 2) - t * t), 1e-12) << t;
      EXPECT_EQ(l(0, t, 1), 1.0);
    }
  }
}

TEST(FeatureKernels, HostBlockIsTheFloatOfTheKernel) {
  const RawBlock b = synth_block(5, 200, 2);
  const FeatureBlock host = compute_feature_block(b, 1);
  const auto f = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), run_kernels(b, 1).features);
  for (int64_t r = 0; r < b.rows; ++r)
    for (int64_t t = 0; t < b.bars; ++t)
      for (int64_t j = 0; j < kFeatureCount; ++j) {
        const float got = host.features[static_cast<size_t>((r * b.bars + t) * kFeatureCount + j)];
        const float want = static_cast<float>(f(r, t, j));
        ASSERT_TRUE((std::isnan(got) && std::isnan(want)) || got == want);
      }
}

}  // namespace
}  // namespace tickstream

namespace tickstream {
namespace {

// Timing only (run with --gtest_also_run_disabled_tests): the features benchmark's workload.
TEST(FeatureKernels, DISABLED_Throughput800x3500) {
  const RawBlock b = synth_block(800, 3500, 1);
  ensure_kokkos();
  const RawViews raw = to_device(b);
  Cube<float> f("f", b.rows, b.bars, kFeatureCount);
  Matrix<uint8_t> v("v", b.rows, b.bars);
  compute_features<float>(raw, f, v);  // warm
  Kokkos::Timer timer;
  compute_features<float>(raw, f, v);
  const double s = timer.seconds();
  std::printf("features 800x3500: %.3f s, %.1f M bar-features/s\n", s, 800.0 * 3500 * kFeatureCount / s / 1e6);
}

}  // namespace
}  // namespace tickstream
