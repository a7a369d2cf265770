// Unit tests of synth: determinism across row splits, calendar, tickers, bar rules, signal IC.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <set>

#include "core/error.hpp"
#include "core/time.hpp"
#include "store/synth.hpp"

namespace tickstream {
namespace {

struct Generated {
  RawBlock block;
  std::vector<double> signal;
};

SynthSpec make_spec(int64_t tickers, int64_t days, double signal = 0.05, uint64_t seed = 42,
                    const std::string& freq = "1d") {
  SynthSpec spec;
  spec.tickers = tickers;
  spec.days = days;
  spec.signal = signal;
  spec.seed = seed;
  spec.freq = freq;
  return spec;
}

Generated generate(const SynthSpec& spec, int64_t row_begin, int64_t rows) {
  const SynthFactors f = synth_factors(spec, spec.days * synth_bars_per_session(spec));
  Generated g;
  synth_generate(spec, f, row_begin, rows, g.block, &g.signal);
  return g;
}

Generated generate(const SynthSpec& spec) { return generate(spec, 0, spec.tickers); }

// Bitwise equality of `n` doubles (NaN == NaN when the bits agree).
template <typename T>
bool same_bits(const T* a, const T* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(T)) == 0;
}

// Compares rows [0, rows) of `part` with rows [offset, offset + rows) of `whole`, bit for bit.
void expect_rows_equal(const Generated& whole, const Generated& part, int64_t offset) {
  const RawBlock& w = whole.block;
  const RawBlock& p = part.block;
  ASSERT_EQ(w.bars, p.bars);
  const size_t n = static_cast<size_t>(p.rows * p.bars);
  const size_t at = w.index(offset, 0);
  EXPECT_TRUE(same_bits(w.open.data() + at, p.open.data(), n));
  EXPECT_TRUE(same_bits(w.high.data() + at, p.high.data(), n));
  EXPECT_TRUE(same_bits(w.low.data() + at, p.low.data(), n));
  EXPECT_TRUE(same_bits(w.close.data() + at, p.close.data(), n));
  EXPECT_TRUE(same_bits(w.volume.data() + at, p.volume.data(), n));
  EXPECT_TRUE(same_bits(w.adj_close.data() + at, p.adj_close.data(), n));
  EXPECT_TRUE(same_bits(w.valid.data() + at, p.valid.data(), n));
  EXPECT_TRUE(same_bits(whole.signal.data() + at, part.signal.data(), n));
}

// Mean over t of the cross-sectional Pearson correlation of signal[:, t] with the log
// adj_close return t -> t+1.
double mean_ic(const Generated& g) {
  const RawBlock& b = g.block;
  double sum = 0.0;
  int64_t count = 0;
  for (int64_t t = 0; t + 1 < b.bars; ++t) {
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < b.rows; ++r) {
      const double x = g.signal[b.index(r, t)];
      if (std::isnan(x) || !b.valid[b.index(r, t + 1)]) continue;
      const double y = std::log(b.adj_close[b.index(r, t + 1)] / b.adj_close[b.index(r, t)]);
      sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, ++n;
    }
    if (n < 20) continue;
    const double dn = static_cast<double>(n);
    const double cov = sxy - sx * sy / dn;
    const double vx = sxx - sx * sx / dn, vy = syy - sy * sy / dn;
    if (vx <= 0 || vy <= 0) continue;
    sum += cov / std::sqrt(vx * vy);
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

TEST(Synth, SameSpecTwiceIsIdentical) {
  const SynthSpec spec = make_spec(30, 120);
  expect_rows_equal(generate(spec), generate(spec), 0);
}

TEST(Synth, RowSplitsAreBitIdentical) {
  for (const char* freq : {"1d", "1min"}) {
    const SynthSpec spec = make_spec(23, std::string(freq) == "1d" ? 200 : 4, 0.1, 7, freq);
    const Generated whole = generate(spec);
    for (int64_t k : {1, 10, 22}) {
      expect_rows_equal(whole, generate(spec, 0, k), 0);
      expect_rows_equal(whole, generate(spec, k, spec.tickers - k), k);
    }
    expect_rows_equal(whole, generate(spec, 5, 3), 5);  // a middle piece
  }
}

TEST(Synth, DifferentSeedDiffers) {
  const Generated a = generate(make_spec(10, 50, 0.05, 1));
  const Generated b = generate(make_spec(10, 50, 0.05, 2));
  EXPECT_FALSE(same_bits(a.block.close.data(), b.block.close.data(), a.block.close.size()));
}

TEST(Synth, DailyCalendar) {
  const auto times = synth_calendar(make_spec(1, 600));
  ASSERT_EQ(times.size(), 600u);
  EXPECT_EQ(times[0], 1262563200);  // 2010-01-04
  for (size_t k = 0; k < times.size(); ++k) {
    EXPECT_EQ(times[k] % 86400, 0);
    EXPECT_LT(weekday_from_days(times[k] / 86400), 5);
    if (k > 0) {
      EXPECT_GT(times[k], times[k - 1]);
      EXPECT_LE(times[k] - times[k - 1], 3 * 86400);
    }
  }
}

TEST(Synth, IntradayCalendar) {
  const SynthSpec spec = make_spec(1, 7, 0.05, 42, "1min");
  EXPECT_EQ(synth_bars_per_session(spec), 390);
  const auto times = synth_calendar(spec);
  ASSERT_EQ(times.size(), 7u * 390u);
  EXPECT_EQ(times[0], 1262563200 + 14 * 3600 + 30 * 60);
  for (size_t s = 0; s < 7; ++s) {
    const int64_t day = times[s * 390] / 86400;
    EXPECT_LT(weekday_from_days(day), 5);
    for (size_t k = 0; k < 390; ++k) {
      EXPECT_EQ(times[s * 390 + k], day * 86400 + 52200 + 60 * static_cast<int64_t>(k));
    }
  }
  EXPECT_EQ(times[389] % 86400, 20 * 3600 + 59 * 60);
  EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
  EXPECT_EQ(std::adjacent_find(times.begin(), times.end()), times.end());
}

TEST(Synth, TickersSortedUniqueAndLookLikeTickers) {
  for (int64_t n : {1, 2, 7, 100, 2000, 17576, 20000, 228488, 300000}) {
    const auto tickers = synth_tickers(n);
    ASSERT_EQ(static_cast<int64_t>(tickers.size()), n);
    EXPECT_TRUE(std::is_sorted(tickers.begin(), tickers.end())) << n;
    EXPECT_EQ(std::adjacent_find(tickers.begin(), tickers.end()), tickers.end()) << n;
    for (const auto& s : tickers) {
      ASSERT_GE(s.size(), 3u);
      ASSERT_LE(s.size(), 5u);
      for (char c : s) ASSERT_TRUE(c >= 'A' && c <= 'Z') << s;
    }
  }
  EXPECT_EQ(synth_tickers(100), synth_tickers(100));
  EXPECT_THROW(synth_tickers(0), InputError);
}

void expect_ingest_rules(const Generated& g) {
  const RawBlock& b = g.block;
  ASSERT_TRUE(b.has_adj_close);
  for (size_t k = 0; k < b.valid.size(); ++k) {
    if (!b.valid[k]) {
      ASSERT_TRUE(std::isnan(b.open[k]) && std::isnan(b.high[k]) && std::isnan(b.low[k]) &&
                  std::isnan(b.close[k]) && std::isnan(b.volume[k]) && std::isnan(b.adj_close[k]));
      ASSERT_TRUE(std::isnan(g.signal[k]));
      continue;
    }
    const double o = b.open[k], h = b.high[k], l = b.low[k], c = b.close[k], v = b.volume[k];
    ASSERT_TRUE(std::isfinite(o) && std::isfinite(h) && std::isfinite(l) && std::isfinite(c));
    ASSERT_TRUE(o > 0 && h > 0 && l > 0 && c > 0 && b.adj_close[k] > 0);
    ASSERT_TRUE(l <= o && l <= c && o <= h && c <= h && l <= h) << o << " " << h << " " << l
                                                                << " " << c;
    ASSERT_TRUE(std::isfinite(v) && v >= 0 && v == std::round(v));
    ASSERT_EQ(o, std::round(o * 1e4) / 1e4);
  }
}

TEST(Synth, DailyBarsSatisfyIngestRules) { expect_ingest_rules(generate(make_spec(200, 400))); }

TEST(Synth, IntradayBarsSatisfyIngestRules) {
  const Generated g = generate(make_spec(20, 6, 0.05, 3, "1min"));
  expect_ingest_rules(g);
  // Inside a session the open is the previous close (no gap) when both bars exist.
  const RawBlock& b = g.block;
  int64_t checked = 0;
  for (int64_t r = 0; r < b.rows; ++r) {
    for (int64_t t = 1; t < b.bars; ++t) {
      if (t % 390 == 0 || !b.valid[b.index(r, t)] || !b.valid[b.index(r, t - 1)]) continue;
      EXPECT_NEAR(b.open[b.index(r, t)], b.close[b.index(r, t - 1)], 1.5e-4);
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(Synth, MissingFractionListingsAndDelistings) {
  const Generated g = generate(make_spec(200, 500));
  const RawBlock& b = g.block;
  const auto missing = std::count(b.valid.begin(), b.valid.end(), uint8_t{0});
  const double frac = static_cast<double>(missing) / static_cast<double>(b.valid.size());
  EXPECT_GT(frac, 0.01);
  EXPECT_LT(frac, 0.15);
  int late = 0, delisted = 0;
  for (int64_t r = 0; r < b.rows; ++r) {
    const uint8_t* v = b.valid.data() + b.index(r, 0);
    const auto first = std::find(v, v + b.bars, uint8_t{1}) - v;
    int64_t last = b.bars - 1;
    while (last >= 0 && !v[last]) --last;
    ASSERT_LE(first, last) << "ticker " << r << " never trades";
    late += first > 10;
    delisted += last < b.bars - 10;
  }
  EXPECT_GE(late, 10);
  EXPECT_LE(late, 60);
  EXPECT_GE(delisted, 4);
  EXPECT_LE(delisted, 35);
}

TEST(Synth, SplitKeepsAdjCloseContinuous) {
  const Generated g = generate(make_spec(400, 300));
  const RawBlock& b = g.block;
  int splits = 0;
  for (int64_t r = 0; r < b.rows; ++r) {
    int64_t prev = -1;
    for (int64_t t = 0; t < b.bars; ++t) {
      const size_t k = b.index(r, t);
      if (!b.valid[k]) continue;
      if (prev >= 0) {
        const size_t p = b.index(r, prev);
        const double jump = std::log(b.close[p] / b.close[k]);
        const double adj_move = std::log(b.adj_close[k] / b.adj_close[p]);
        if (jump > std::log(1.6) && std::fabs(adj_move) < 0.25) {
          ++splits;
          // Before the split adj_close = close / ratio; from the split on adj_close = close.
          const double ratio = b.close[p] / b.adj_close[p];
          EXPECT_TRUE(std::fabs(ratio - 2.0) < 1e-9 || std::fabs(ratio - 3.0) < 1e-9) << ratio;
          EXPECT_EQ(b.adj_close[k], b.close[k]);
          EXPECT_GT(b.volume[k], 0);
        }
      }
      prev = t;
    }
  }
  EXPECT_GE(splits, 5);
  EXPECT_LE(splits, 40);
}

TEST(Synth, SignalIsNanWhereUndefined) {
  const Generated g = generate(make_spec(50, 100));
  const RawBlock& b = g.block;
  for (int64_t r = 0; r < b.rows; ++r) {
    for (int64_t t = 0; t < b.bars; ++t) {
      const double z = g.signal[b.index(r, t)];
      const bool defined = t >= 5 && b.valid[b.index(r, t)] && b.valid[b.index(r, t - 5)];
      ASSERT_EQ(defined, !std::isnan(z)) << r << " " << t;
      if (defined) {
        ASSERT_LE(std::fabs(z), 3.0);
      }
    }
  }
}

TEST(Synth, SignalIsPredictive) {
  const double ic10 = mean_ic(generate(make_spec(300, 500, 0.1)));
  const double ic05 = mean_ic(generate(make_spec(300, 500, 0.05)));
  const double ic00 = mean_ic(generate(make_spec(300, 500, 0.0)));
  std::cout << "IC signal=0.10: " << ic10 << "  signal=0.05: " << ic05 << "  signal=0: " << ic00
            << "\n";
  EXPECT_GT(ic10, 0.05);
  EXPECT_LT(ic10, 0.15);
  EXPECT_GT(ic05, 0.025);
  EXPECT_LT(ic05, 0.075);
  EXPECT_LT(std::fabs(ic00), 0.02);
}

TEST(Synth, SignalAboveHalfIsClamped) {
  const Generated a = generate(make_spec(5, 60, 0.5));
  const Generated b = generate(make_spec(5, 60, 0.9));
  expect_rows_equal(a, b, 0);
}

TEST(Synth, BadSpecThrowsInputError) {
  SynthSpec bad_freq = make_spec(5, 10);
  bad_freq.freq = "5min";
  EXPECT_THROW(synth_bars_per_session(bad_freq), InputError);
  EXPECT_THROW(synth_calendar(bad_freq), InputError);
  EXPECT_THROW(synth_factors(bad_freq, 10), InputError);
  const SynthFactors f = synth_factors(make_spec(5, 10), 10);
  RawBlock block;
  EXPECT_THROW(synth_generate(bad_freq, f, 0, 5, block, nullptr), InputError);
  for (double s : {-0.01, 1.01, std::nan("")}) {
    EXPECT_THROW(synth_generate(make_spec(5, 10, s), f, 0, 5, block, nullptr), InputError) << s;
  }
  EXPECT_NO_THROW(synth_generate(make_spec(5, 10, 1.0), f, 0, 5, block, nullptr));
  EXPECT_THROW(synth_calendar(make_spec(5, 0)), InputError);
}

// Timing of the reference size; run with --gtest_also_run_disabled_tests.
TEST(Synth, DISABLED_Perf2000x2520) {
  const SynthSpec spec = make_spec(2000, 2520);
  const auto t0 = std::chrono::steady_clock::now();
  const Generated g = generate(spec);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "synth 2000 x 2520 daily: " << s << " s\n";
  EXPECT_EQ(g.block.rows, 2000);
}

}  // namespace
}  // namespace tickstream
