// Coarser timeframes: buckets, the coarse axis and its no-lookahead alignment, coarse bars, columns.
#include "features/timeframes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>

#include "core/error.hpp"
#include "features/feature_set.hpp"

namespace tickstream {
namespace {

constexpr int64_t kDay = 86400;

TimeframeSpec parse_name(const std::string& name) {
  static const std::regex pattern("([1-9][0-9]*)(min|h|d|w)");
  std::smatch m;
  TS_REQUIRE_INPUT(std::regex_match(name, m, pattern),
                   "[features.timeframes] \"{}\": expected <N>min, <N>h, 1d or 1w (e.g. \"5min\", \"1h\", \"1w\")", name);
  const int64_t n = std::stoll(m[1].str());
  const std::string unit = m[2].str();
  TS_REQUIRE_INPUT((unit != "d" && unit != "w") || n == 1, "[features.timeframes] \"{}\": days and weeks come as 1d and 1w",
                   name);
  TimeframeSpec tf;
  tf.name = name, tf.weekly = unit == "w";
  tf.seconds = unit == "min" ? 60 * n : unit == "h" ? 3600 * n : unit == "d" ? kDay : 7 * kDay;
  TS_REQUIRE_INPUT(kDay % tf.seconds == 0 || tf.weekly, "[features.timeframes] \"{}\": must divide a day", name);
  return tf;
}

int64_t feature_index(const std::string& tf, const std::string& feature) {
  for (size_t k = 0; k < kFeatureNames.size(); ++k)
    if (feature == kFeatureNames[k]) return static_cast<int64_t>(k);
  TS_INPUT_ERROR("[features.timeframes] \"{}\": \"{}\" is not a feature of the default set (docs/features.md)", tf,
                 feature);
}

double adjust(const RawBlock& raw, size_t i) {
  if (!raw.has_adj_close || !std::isfinite(raw.adj_close[i])) return 1.0;
  return raw.adj_close[i] / raw.close[i];
}

}  // namespace

std::vector<TimeframeSpec> resolve_timeframes(const std::vector<Config::Timeframe>& config) {
  std::vector<TimeframeSpec> out;
  for (const Config::Timeframe& c : config) {
    TimeframeSpec tf = parse_name(c.name);
    for (const std::string& f : c.features) {
      const int64_t k = feature_index(c.name, f);
      TS_REQUIRE_INPUT(std::find(tf.features.begin(), tf.features.end(), k) == tf.features.end(),
                       "[features.timeframes] \"{}\": \"{}\" listed twice", c.name, f);
      tf.features.push_back(k);
    }
    out.push_back(std::move(tf));
  }
  return out;
}

int64_t timeframe_bucket(const TimeframeSpec& tf, int64_t time) {
  const auto floor_div = [](int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); };
  if (!tf.weekly) return floor_div(time, tf.seconds);
  return floor_div(floor_div(time, kDay) + 3, 7);  // 1970-01-01 was a Thursday: weeks start on Monday
}

std::vector<std::string> feature_columns(const std::vector<TimeframeSpec>& timeframes) {
  std::vector<std::string> names(kFeatureNames.begin(), kFeatureNames.end());
  for (const TimeframeSpec& tf : timeframes)
    for (int64_t k : tf.features) names.push_back(tf.name + "_" + kFeatureNames[static_cast<size_t>(k)]);
  return names;
}

TimeframeAxis timeframe_axis(const TimeframeSpec& tf, const std::vector<int64_t>& time) {
  TimeframeAxis a;
  const auto bars = static_cast<int64_t>(time.size());
  a.coarse_of.resize(time.size()), a.usable.resize(time.size());
  for (int64_t t = 0; t < bars; ++t) {
    const bool starts = t == 0 || timeframe_bucket(tf, time[t]) != timeframe_bucket(tf, time[t - 1]);
    a.coarse_bars += starts ? 1 : 0;
    a.coarse_of[t] = a.coarse_bars - 1;
  }
  for (int64_t t = 0; t < bars; ++t) {
    const bool closes = t == bars - 1 || a.coarse_of[t + 1] != a.coarse_of[t];
    a.usable[t] = closes ? a.coarse_of[t] : a.coarse_of[t] - 1;
  }
  return a;
}

RawBlock coarse_block(const RawBlock& raw, const TimeframeAxis& axis) {
  RawBlock c;
  c.resize(raw.row_begin, raw.rows, axis.coarse_bars, false);
  for (int64_t r = 0; r < raw.rows; ++r)
    for (int64_t t = 0; t < raw.bars; ++t) {
      const size_t i = raw.index(r, t);
      if (!raw.valid[i]) continue;
      const size_t k = c.index(r, axis.coarse_of[static_cast<size_t>(t)]);
      const double f = adjust(raw, i);
      if (!c.valid[k]) {
        c.open[k] = raw.open[i] * f, c.high[k] = raw.high[i] * f, c.low[k] = raw.low[i] * f, c.volume[k] = 0;
        c.valid[k] = 1;
      }
      c.high[k] = std::max(c.high[k], raw.high[i] * f), c.low[k] = std::min(c.low[k], raw.low[i] * f);
      c.close[k] = raw.close[i] * f, c.volume[k] += raw.volume[i];
    }
  return c;
}

FeatureBlock add_timeframes(const RawBlock& raw, const std::vector<int64_t>& time, FeatureBlock base,
                            const std::vector<TimeframeSpec>& timeframes, Gaps gaps) {
  if (timeframes.empty()) return base;  // moved out: no copy
  const int64_t f0 = kFeatureCount;
  int64_t extra = 0;
  for (const TimeframeSpec& tf : timeframes) extra += static_cast<int64_t>(tf.features.size());
  const int64_t width = f0 + extra, bars = raw.bars;
  FeatureBlock out;
  out.feature_valid = base.feature_valid, out.labels = std::move(base.labels), out.label_valid = std::move(base.label_valid);
  out.features.assign(static_cast<size_t>(raw.rows * bars * width), std::numeric_limits<float>::quiet_NaN());
  for (size_t cell = 0; cell < base.feature_valid.size(); ++cell)
    std::copy_n(base.features.data() + cell * f0, f0, out.features.data() + cell * static_cast<size_t>(width));
  int64_t column = f0;
  for (const TimeframeSpec& tf : timeframes) {
    const TimeframeAxis axis = timeframe_axis(tf, time);
    const FeatureBlock coarse = compute_feature_block(coarse_block(raw, axis), 1, gaps);
    for (int64_t r = 0; r < raw.rows; ++r)
      for (int64_t t = 0; t < bars; ++t) {
        const int64_t u = axis.usable[static_cast<size_t>(t)];
        if (u < 0) continue;
        const float* src = coarse.features.data() + (r * axis.coarse_bars + u) * f0;
        float* dst = out.features.data() + (r * bars + t) * width + column;
        for (size_t j = 0; j < tf.features.size(); ++j) dst[j] = src[tf.features[j]];
      }
    column += static_cast<int64_t>(tf.features.size());
  }
  for (size_t cell = 0; cell < out.feature_valid.size(); ++cell) {
    const float* row = out.features.data() + cell * static_cast<size_t>(width);
    out.feature_valid[cell] = out.feature_valid[cell] && std::all_of(row + f0, row + width, [](float x) { return std::isfinite(x); });
  }
  out.width = width;
  return out;
}

}  // namespace tickstream
