// Synthetic market universe: factor model + GARCH(1,1) Student-t shocks + planted signal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/raw_block.hpp"

namespace tickstream {

struct SynthSpec {
  int64_t tickers = 100;
  int64_t days = 252;          // trading sessions
  std::string freq = "1d";     // "1d" or "1min" (390 bars per session)
  uint64_t seed = 42;
  double signal = 0.05;        // strength of the planted predictable component (about its IC)
  int64_t signal_from = 0;     // the signal drives returns only from this session on (0: always)
  double halt_prob = -1;       // chance of a single-bar halt per bar; < 0: 0.002 daily, 0.0005 1min
  int64_t exchanges = 1;       // >= 2: ticker i lists on exchange i mod N, closed on its own holidays
};

// Bars per session for the spec's frequency (1 or 390); throws InputError on another frequency.
int64_t synth_bars_per_session(const SynthSpec& spec);

// The calendar: business days from 2010-01-04 (daily: 00:00 UTC; 1min: 14:30..20:59 UTC).
std::vector<int64_t> synth_calendar(const SynthSpec& spec);

// Whether exchange `exchange` of spec.exchanges (>= 2) is closed on `session` (about 9 holidays a
// year each, drawn from the seed; never all of them on one session, so the store's time axis, the
// union of their calendars, is every business day). Always false with one exchange.
bool synth_holiday(const SynthSpec& spec, int64_t exchange, int64_t session);

// Sorted, unique ticker symbols for the universe (same for every rank).
std::vector<std::string> synth_tickers(int64_t count);

// Common factor returns shared by all tickers, drawn once from the seed.
struct SynthFactors {
  std::vector<double> market;               // [T]
  std::vector<std::vector<double>> sector;  // [sectors][T]
};
SynthFactors synth_factors(const SynthSpec& spec, int64_t bars);

// Generates tickers [row_begin, row_begin + rows) into `out` (resized to rows x T, with
// adj_close). `signal_out` (optional) receives the planted signal z[row, t] that predicts the
// log return from t to t+1; NaN where undefined. Output depends only on (spec, ticker index):
// any split of the rows across ranks gives identical arrays.
void synth_generate(const SynthSpec& spec, const SynthFactors& factors, int64_t row_begin,
                    int64_t rows, RawBlock& out, std::vector<double>* signal_out);

}  // namespace tickstream
