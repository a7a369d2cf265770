// Synthetic market universe: calendar, tickers, factors, GARCH Student-t shocks, planted signal.
#include "store/synth.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/time.hpp"
#include "core/keyed_rng.hpp"

namespace tickstream {

namespace {

constexpr int64_t kSectors = 10;
constexpr int64_t kIntradayBars = 390;
constexpr int64_t kSessionOpenUtc = 14 * 3600 + 30 * 60;  // 14:30 UTC
constexpr int64_t kSecondsPerDay = 86400;

constexpr double kMarketMean = 0.0003;  // daily
constexpr double kMarketVol = 0.011;    // daily
constexpr double kSectorVol = 0.006;    // daily
constexpr double kGapVolShare = 0.5;    // intraday overnight gap sd / daily sd (25% of variance)
constexpr double kOpenShare = 0.35;     // daily: open-gap weight (about 25% of the variance)
constexpr double kMaxSignal = 0.5;      // signal strengths above this are clamped
constexpr double kZClip = 3.0;
constexpr int64_t kSignalLookback = 5;
constexpr double kVolumeMoveCap = 8.0;  // cap on |move| / sigma in the volume equation

// Purposes of the random streams; a stream is keyed by (seed, index, purpose) only.
enum Purpose : uint64_t {
  kPurposeMarket = 1,
  kPurposeSector = 2,
  kPurposeParams = 3,
  kPurposeShock = 4,
  kPurposeBar = 5,
  kPurposeHalt = 6,
  kPurposeSectorOf = 7,
  kPurposeHoliday = 8,
};

double nan_value() { return std::numeric_limits<double>::quiet_NaN(); }

// Validates the spec and returns the effective signal strength a in [0, 0.5].
double checked_signal(const SynthSpec& spec) {
  TS_REQUIRE_INPUT(spec.tickers >= 1, "synth: --tickers must be >= 1 (got {})", spec.tickers);
  TS_REQUIRE_INPUT(spec.days >= 1, "synth: --days must be >= 1 (got {})", spec.days);
  TS_REQUIRE_INPUT(std::isfinite(spec.signal) && spec.signal >= 0.0 && spec.signal <= 1.0,
                   "synth: --signal must be in [0, 1] (got {})", spec.signal);
  TS_REQUIRE_INPUT(spec.signal_from >= 0 && spec.signal_from < spec.days,
                   "synth: --signal-from {} must be a session before --days {}", spec.signal_from, spec.days);
  TS_REQUIRE_INPUT(spec.halt_prob <= 0.5, "synth: --halt-prob must be in [0, 0.5] (got {})", spec.halt_prob);
  TS_REQUIRE_INPUT(spec.exchanges >= 1 && spec.exchanges <= 64, "synth: --exchanges must be in [1, 64] (got {})",
                   spec.exchanges);
  synth_bars_per_session(spec);
  return std::min(spec.signal, kMaxSignal);
}

// ---- common factors -------------------------------------------------------------------------

struct FactorShape {
  double daily_mean;
  double daily_vol;
  double alpha;  // GARCH(1,1) on the factor shock; 0/0 for i.i.d.
  double beta;
};

// One factor's per-bar log returns: Student-t(5) GARCH shocks plus, intraday, an overnight gap
// at the first bar of each session.
std::vector<double> factor_path(KeyedRng rng, int64_t bars, int64_t bps, const FactorShape& s) {
  const double n = static_cast<double>(bps);
  const double lr_var = s.daily_vol * s.daily_vol / n;
  const double omega = lr_var * (1.0 - s.alpha - s.beta);
  double h = lr_var;
  std::vector<double> out(static_cast<size_t>(bars));
  for (int64_t t = 0; t < bars; ++t) {
    const double sigma = std::sqrt(h);
    const double e = sigma * rng.student_t5();
    const double gap = rng.normal();
    double r = s.daily_mean / n + e;
    if (bps > 1 && t % bps == 0) r += kGapVolShare * sigma * std::sqrt(n) * gap;
    out[static_cast<size_t>(t)] = r;
    h = std::clamp(omega + s.alpha * e * e + s.beta * h, 0.05 * lr_var, 20.0 * lr_var);
  }
  return out;
}

// ---- per-ticker parameters ------------------------------------------------------------------

struct TickerParams {
  double beta = 1.0;
  double gamma = 0.5;
  int64_t sector = 0;
  double alpha = 0.05;       // GARCH ARCH term
  double persistence = 0.9;  // GARCH GARCH term
  double lr_var = 0.0;       // long-run per-bar idiosyncratic variance
  double start_log_price = 0.0;
  double volume_log_base = 0.0;
  int64_t first_bar = 0;
  int64_t last_bar = 0;
  int64_t split_bar = -1;  // -1: no split
  double split_ratio = 1.0;
};

// Listing, delisting and split sessions. Every uniform is drawn whatever the branch, so the
// stream stays aligned when a probability changes.
void draw_lifetime(KeyedRng& rng, int64_t sessions, int64_t bps, TickerParams& p) {
  const double u_late = rng.uniform(), u_first = rng.uniform();
  const double u_delist = rng.uniform(), u_last = rng.uniform();
  const double u_split = rng.uniform(), u_split_at = rng.uniform(), u_ratio = rng.uniform();
  int64_t first = 0, last = sessions - 1;
  if (u_late < 0.15) {
    first = static_cast<int64_t>(u_first * 0.6 * static_cast<double>(sessions));
  }
  if (u_delist < 0.08) {
    const int64_t lo = sessions / 2;
    last = lo + static_cast<int64_t>(u_last * static_cast<double>(sessions - lo));
  }
  first = std::clamp<int64_t>(first, 0, sessions - 1);
  last = std::clamp<int64_t>(last, first, sessions - 1);
  p.first_bar = first * bps;
  p.last_bar = last * bps + bps - 1;
  if (u_split < 0.05 && last > first) {
    const auto span = static_cast<double>(last - first);
    const int64_t at = first + 1 + static_cast<int64_t>(u_split_at * span);
    p.split_bar = std::min(at, last) * bps;
    p.split_ratio = u_ratio < 0.6 ? 2.0 : 3.0;
  }
}

TickerParams draw_ticker_params(const SynthSpec& spec, int64_t index, int64_t bps) {
  const auto key = static_cast<uint64_t>(index);
  KeyedRng rng(spec.seed, key, kPurposeParams);
  TickerParams p;
  p.beta = rng.uniform(0.5, 1.5);
  p.gamma = rng.uniform(0.3, 1.0);
  p.alpha = rng.uniform(0.03, 0.10);
  p.persistence = std::min(rng.uniform(0.85, 0.95), 0.985 - p.alpha);  // alpha + beta < 0.99
  const double daily_vol = rng.uniform(0.012, 0.035);
  p.lr_var = daily_vol * daily_vol / static_cast<double>(bps);
  p.start_log_price = rng.uniform(std::log(5.0), std::log(500.0));
  p.volume_log_base = rng.uniform(std::log(1e5), std::log(1e7));
  draw_lifetime(rng, spec.days, bps, p);
  const uint64_t sector_hash = splitmix64_mix(stream_key(spec.seed, key, kPurposeSectorOf));
  p.sector = static_cast<int64_t>(sector_hash % static_cast<uint64_t>(kSectors));
  return p;
}

// ---- per-bar simulation ---------------------------------------------------------------------

// Where one ticker's row goes; `signal` may be null.
struct RowOut {
  double* open;
  double* high;
  double* low;
  double* close;
  double* volume;
  double* adj_close;
  uint8_t* valid;
  double* signal;
};

// Settings shared by every ticker of one call.
struct BarShape {
  int64_t bps = 1;
  double signal = 0.0;        // a
  double signal_rest = 1.0;   // sqrt(1 - a^2)
  int64_t signal_from = 0;    // first bar whose return carries the signal
  double halt_prob = 0.002;
  double profile_norm = 1.0;  // mean of the unnormalized intraday volume profile
};

// Random draws of one bar: always all of them, valid bar or not.
struct BarDraws {
  double eps, gap, high, low, volume;
  bool halted;
};

// The latent (adjusted, unrounded) state of one ticker.
struct TickerState {
  double h;          // conditional variance of the next idiosyncratic shock
  double log_price;  // log adjusted close
  double zprev;      // planted signal of the previous bar (0 where undefined)
};

// Adjusted-basis log prices of one bar plus what the volume equation needs.
struct BarPrices {
  double log_open, log_close, log_high, log_low, sigma, move;
};

double intraday_profile(int64_t k, int64_t bps) {
  const double mid = 0.5 * static_cast<double>(bps - 1);
  const double x = (static_cast<double>(k) - mid) / mid;
  return 1.0 + 2.0 * x * x;  // U-shaped: busy open and close
}

double round_price(double x) { return std::max(std::round(x * 1e4) / 1e4, 1e-4); }

// Advances the latent state by bar t and returns the bar's adjusted-basis prices.
BarPrices step_bar(const TickerParams& p, const BarShape& shape, const SynthFactors& f, int64_t t,
                   const BarDraws& d, TickerState& st) {
  const auto ut = static_cast<size_t>(t);
  const double sigma = std::sqrt(st.h);
  const bool planted = t >= shape.signal_from;
  const double e = sigma * (planted ? shape.signal * st.zprev + shape.signal_rest * d.eps : d.eps);
  const double sector = f.sector[static_cast<size_t>(p.sector)][ut];
  const double factor = p.beta * f.market[ut] + p.gamma * sector;
  double r = factor + e;
  double g = 0.0;  // log(open / previous adjusted close)
  if (shape.bps == 1) {
    g = kOpenShare * (r + sigma * d.gap);
  } else if (t % shape.bps == 0) {
    const double daily_sigma = sigma * std::sqrt(static_cast<double>(shape.bps));
    const double overnight = kGapVolShare * daily_sigma * d.gap;
    r += overnight;
    g = factor + overnight;
  }
  BarPrices b;
  b.sigma = sigma;
  b.move = shape.bps == 1 ? r : r - g;
  b.log_open = st.log_price + g;
  b.log_close = st.log_price + r;
  b.log_high = std::max(b.log_open, b.log_close) + std::fabs(d.high) * 0.5 * sigma;
  b.log_low = std::min(b.log_open, b.log_close) - std::fabs(d.low) * 0.5 * sigma;
  st.log_price = b.log_close;
  const double omega = p.lr_var * (1.0 - p.alpha - p.persistence);
  const double h_next = omega + p.alpha * e * e + p.persistence * st.h;
  st.h = std::clamp(h_next, 0.05 * p.lr_var, 20.0 * p.lr_var);
  return b;
}

// Writes a valid bar: raw prices (split-adjusted back by the ratio before the split bar),
// rounded to 4 decimals, adj_close = close * cumulative split factor, integer volume.
void write_bar(const TickerParams& p, const BarShape& shape, int64_t t, const BarPrices& b,
               const BarDraws& d, const RowOut& out) {
  const bool before_split = p.split_bar >= 0 && t < p.split_bar;
  const bool after_split = p.split_bar >= 0 && t >= p.split_bar;
  const double raw = before_split ? p.split_ratio : 1.0;
  const double open = std::exp(b.log_open), close = std::exp(b.log_close);
  const double high = std::max({std::exp(b.log_high), open, close});
  const double low = std::min({std::exp(b.log_low), open, close});
  const auto ut = static_cast<size_t>(t);
  out.open[ut] = round_price(open * raw);
  out.high[ut] = round_price(high * raw);
  out.low[ut] = round_price(low * raw);
  out.close[ut] = round_price(close * raw);
  out.adj_close[ut] = out.close[ut] / raw;
  const double x = std::min(std::fabs(b.move) / b.sigma, kVolumeMoveCap);
  double volume = std::exp(p.volume_log_base + 0.8 * x + 0.3 * d.volume);
  if (shape.bps > 1) {
    volume *= intraday_profile(t % shape.bps, shape.bps) /
              (shape.profile_norm * static_cast<double>(shape.bps));
  }
  if (after_split) volume *= p.split_ratio;
  out.volume[ut] = std::round(volume);
  out.valid[ut] = 1;
}

// zhat_t = clip(-log(adj_t / adj_{t-5}) / (sigma_t sqrt 5), -3, 3); NaN unless bars t and t-5
// are both valid. Computed from the stored (rounded) adj_close, so it is observable.
double planted_signal(const double* log_adj, int64_t t, double sigma) {
  if (t < kSignalLookback) return nan_value();
  const double now = log_adj[t], then = log_adj[t - kSignalLookback];
  if (std::isnan(now) || std::isnan(then)) return nan_value();
  const double z = -(now - then) / (sigma * std::sqrt(static_cast<double>(kSignalLookback)));
  return std::clamp(z, -kZClip, kZClip);
}

void simulate_ticker(const SynthSpec& spec, const SynthFactors& f, const BarShape& shape,
                     int64_t index, int64_t bars, const RowOut& out, std::vector<double>& log_adj) {
  const TickerParams p = draw_ticker_params(spec, index, shape.bps);
  const auto key = static_cast<uint64_t>(index);
  KeyedRng shock(spec.seed, key, kPurposeShock), bar(spec.seed, key, kPurposeBar),
      halt(spec.seed, key, kPurposeHalt);
  TickerState st{p.lr_var, p.start_log_price, 0.0};
  for (int64_t t = 0; t < bars; ++t) {
    BarDraws d{};
    d.eps = shock.student_t5();
    d.gap = bar.normal();
    d.high = bar.normal();
    d.low = bar.normal();
    d.volume = bar.normal();
    d.halted = halt.uniform() < shape.halt_prob || synth_holiday(spec, index % spec.exchanges, t / shape.bps);
    const BarPrices b = step_bar(p, shape, f, t, d, st);
    const auto ut = static_cast<size_t>(t);
    const bool listed = t >= p.first_bar && t <= p.last_bar;
    log_adj[ut] = nan_value();
    if (listed && !d.halted) {
      write_bar(p, shape, t, b, d, out);
      log_adj[ut] = std::log(out.adj_close[ut]);
    }
    const double zhat = planted_signal(log_adj.data(), t, b.sigma);
    if (out.signal != nullptr) out.signal[ut] = zhat;
    st.zprev = std::isnan(zhat) ? 0.0 : zhat;
  }
}

BarShape make_bar_shape(const SynthSpec& spec) {
  BarShape shape;
  shape.bps = synth_bars_per_session(spec);
  shape.signal = checked_signal(spec);
  shape.signal_rest = std::sqrt(1.0 - shape.signal * shape.signal);
  shape.signal_from = spec.signal_from * shape.bps;
  shape.halt_prob = spec.halt_prob >= 0 ? spec.halt_prob : (shape.bps == 1 ? 0.002 : 0.0005);
  double sum = 0.0;
  for (int64_t k = 0; k < shape.bps; ++k) sum += intraday_profile(k, shape.bps);
  shape.profile_norm = shape.bps > 1 ? sum / static_cast<double>(shape.bps) : 1.0;
  return shape;
}

// ---- tickers --------------------------------------------------------------------------------

std::string letters(uint64_t code, int width) {
  std::string s(static_cast<size_t>(width), 'A');
  for (int k = width - 1; k >= 0; --k) {
    s[static_cast<size_t>(k)] = static_cast<char>('A' + code % 26);
    code /= 26;
  }
  return s;
}

}  // namespace

int64_t synth_bars_per_session(const SynthSpec& spec) {
  if (spec.freq == "1d") return 1;
  if (spec.freq == "1min") return kIntradayBars;
  TS_INPUT_ERROR("synth: unknown frequency '{}' (expected 1d or 1min)", spec.freq);
}

namespace {

constexpr double kHolidaysPerSession = 9.0 / 252.0;

bool drawn_holiday(uint64_t seed, int64_t exchange, int64_t session) {
  const uint64_t key = static_cast<uint64_t>(exchange) << 40 | static_cast<uint64_t>(session);
  const uint64_t h = splitmix64_mix(stream_key(seed, key, kPurposeHoliday));
  return static_cast<double>(h >> 11) * 0x1.0p-53 < kHolidaysPerSession;
}

}  // namespace

bool synth_holiday(const SynthSpec& spec, int64_t exchange, int64_t session) {
  if (spec.exchanges < 2 || !drawn_holiday(spec.seed, exchange, session)) return false;
  for (int64_t e = 0; e < spec.exchanges; ++e)
    if (!drawn_holiday(spec.seed, e, session)) return true;  // another exchange trades that session
  return exchange != spec.exchanges - 1;  // every one drew a holiday: the last stays open
}

std::vector<int64_t> synth_calendar(const SynthSpec& spec) {
  const int64_t bps = synth_bars_per_session(spec);
  TS_REQUIRE_INPUT(spec.days >= 1, "synth: --days must be >= 1 (got {})", spec.days);
  std::vector<int64_t> times;
  times.reserve(static_cast<size_t>(spec.days * bps));
  int64_t day = days_from_civil(2010, 1, 4);
  for (int64_t session = 0; session < spec.days; ++day) {
    if (weekday_from_days(day) >= 5) continue;
    const int64_t base = day * kSecondsPerDay;
    if (bps == 1) {
      times.push_back(base);
    } else {
      for (int64_t k = 0; k < bps; ++k) times.push_back(base + kSessionOpenUtc + 60 * k);
    }
    ++session;
  }
  return times;
}

// Index i maps monotonically to the 4-letter code i * step + step / 2 (5 letters when the
// universe is too large); where codes are at least 26 apart some become 3 letters (their
// prefix), and some gain a fifth letter. Both keep the order and uniqueness, since no two codes
// share a 3-letter prefix then, and a prefix or an extension sorts with its code.
std::vector<std::string> synth_tickers(int64_t count) {
  constexpr uint64_t k26_4 = 26ULL * 26 * 26 * 26;
  constexpr uint64_t k26_5 = k26_4 * 26;
  TS_REQUIRE_INPUT(count >= 1 && static_cast<uint64_t>(count) <= k26_5,
                   "synth: ticker count must be in [1, {}] (got {})", k26_5, count);
  const auto n = static_cast<uint64_t>(count);
  const bool five = n > k26_4 / 2;
  const uint64_t step = (five ? k26_5 : k26_4) / n;
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t code = i * step + step / 2;
    std::string sym = letters(code, five ? 5 : 4);
    const uint64_t h = splitmix64_mix(code * 0x9e3779b97f4a7c15ULL + 17) % 100;
    if (!five && step >= 26 && h < 25) {
      sym.pop_back();
    } else if (!five && h >= 88) {
      sym.push_back(static_cast<char>('A' + (h * 7) % 26));
    }
    out.push_back(std::move(sym));
  }
  return out;
}

SynthFactors synth_factors(const SynthSpec& spec, int64_t bars) {
  checked_signal(spec);
  TS_CHECK(bars >= 0, "synth_factors: negative bar count {}", bars);
  const int64_t bps = synth_bars_per_session(spec);
  SynthFactors f;
  f.market = factor_path(KeyedRng(spec.seed, 0, kPurposeMarket), bars, bps,
                         FactorShape{kMarketMean, kMarketVol, 0.08, 0.90});
  f.sector.reserve(static_cast<size_t>(kSectors));
  for (int64_t s = 0; s < kSectors; ++s) {
    f.sector.push_back(factor_path(KeyedRng(spec.seed, static_cast<uint64_t>(s), kPurposeSector),
                                   bars, bps, FactorShape{0.0, kSectorVol, 0.05, 0.90}));
  }
  return f;
}

void synth_generate(const SynthSpec& spec, const SynthFactors& factors, int64_t row_begin,
                    int64_t rows, RawBlock& out, std::vector<double>* signal_out) {
  const BarShape shape = make_bar_shape(spec);
  const int64_t bars = spec.days * shape.bps;
  TS_CHECK(row_begin >= 0 && rows >= 0 && row_begin + rows <= spec.tickers,
           "synth_generate: rows [{}, {}) outside [0, {})", row_begin, row_begin + rows,
           spec.tickers);
  TS_CHECK(static_cast<int64_t>(factors.market.size()) == bars &&
               static_cast<int64_t>(factors.sector.size()) == kSectors,
           "synth_generate: factors do not match the spec ({} bars expected)", bars);
  for (const auto& s : factors.sector) {
    TS_CHECK(static_cast<int64_t>(s.size()) == bars, "synth_generate: sector factor length {}",
             s.size());
  }
  out.resize(row_begin, rows, bars, true);
  if (signal_out != nullptr) signal_out->assign(static_cast<size_t>(rows * bars), nan_value());
  std::vector<double> log_adj(static_cast<size_t>(bars));
  for (int64_t r = 0; r < rows; ++r) {
    const size_t at = out.index(r, 0);
    RowOut row{out.open.data() + at,  out.high.data() + at,   out.low.data() + at,
               out.close.data() + at, out.volume.data() + at, out.adj_close.data() + at,
               out.valid.data() + at,
               signal_out != nullptr ? signal_out->data() + at : nullptr};
    simulate_ticker(spec, factors, shape, row_begin + r, bars, row, log_adj);
  }
}

}  // namespace tickstream
