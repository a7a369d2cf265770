// Walk-forward folds (docs/research.md): train, optional inner validation, embargo gap and test
// windows on the store's bar axis, expanding or rolling.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/store_format.hpp"

namespace tickstream {

struct WalkForwardSpec {
  int64_t train_bars = 756;  // rolling: the train window's length; expanding: the first fold's
  int64_t valid_bars = 0;    // the train window's last bars held out for validation (0: none)
  int64_t gap_bars = 0;      // bars left out between a train window's end and its test window
  int64_t test_bars = 63;
  int64_t step_bars = 0;     // 0: test_bars (test windows tile the axis)
  bool rolling = false;      // false: expanding (every fold trains from `start`)
  int64_t start = 0;         // first bar any fold may train on
  int64_t first_test = -1;   // first test bar; -1: start + train_bars + gap_bars
  int64_t horizon = 1;       // label horizon: a test bar needs bar t + horizon to be scored
  int64_t seq_len = 1;       // a train window must hold at least one window plus its label
};

struct Fold {
  int64_t index = 0;
  BarRange train;  // the whole train window (statistics are fitted on it), validation included
  BarRange fit;    // the bars training windows end in: train minus validation
  BarRange valid;  // empty when valid_bars is 0
  BarRange test;   // bars predicted out of sample
};

// The folds over a store of `bars` bars: fold k tests [first_test + k step, + test_bars) (the last
// one cut at bars - 1 - horizon), trains on bars up to its test start - gap - 1. Every train
// window ends before its test window starts, and labels never cross a window's end (the training
// window rule). InputError naming the [backtest] key when the spec leaves no fold or a train
// window too short for one window (seq_len + horizon bars).
std::vector<Fold> plan_folds(const WalkForwardSpec& spec, int64_t bars);

// "2010-01-04..2012-12-31" for a bar range of `time` ("-" when empty).
std::string describe_range(const std::vector<int64_t>& time, const BarRange& r);

}  // namespace tickstream
