// Validation metrics: sorted, order-independent MSE, directional accuracy, IC, rank IC and ICIR.
#include "train/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>


namespace tickstream {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A strict weak order on floats that is total: NaNs are equivalent and sort after everything,
// so sorting is well defined (and deterministic up to bitwise-equivalent values) on any input.
bool float_less(float a, float b) {
  if (std::isnan(a)) return false;
  return std::isnan(b) || a < b;
}

// (date, label, pred, prob_up): the canonical order every metric is computed in.
bool sample_less(const EvalSample& a, const EvalSample& b) {
  if (a.date != b.date) return a.date < b.date;
  if (float_less(a.label, b.label) || float_less(b.label, a.label)) return float_less(a.label, b.label);
  if (float_less(a.pred, b.pred) || float_less(b.pred, a.pred)) return float_less(a.pred, b.pred);
  return float_less(a.prob_up, b.prob_up);
}

// 1-based ranks of finite values; equal values share the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(values[a], a) < std::tie(values[b], b);
  });
  std::vector<double> ranks(values.size());
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    // Positions begin..end-1 are ranks begin+1..end; their average is (begin + 1 + end) / 2.
    const double rank = 0.5 * static_cast<double>(begin + 1 + end);
    for (size_t i = begin; i < end; ++i) ranks[order[i]] = rank;
    begin = end;
  }
  return ranks;
}

double mean_of(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// Pearson correlation (two-pass); nullopt when either side has zero variance. Clamped to
// [-1, 1] against rounding.
std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean_of(x), my = mean_of(y);
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return std::nullopt;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

struct DailyIc {
  double ic;
  double rank_ic;
};

// IC and rank IC of one date's samples; nullopt when the date is not usable (too few samples,
// zero variance). Any non-finite pred or label makes both NaN.
std::optional<DailyIc> daily_ic(const EvalSample* begin, const EvalSample* end) {
  if (end - begin < kMinSamplesPerDate) return std::nullopt;
  std::vector<double> pred, label;
  bool finite = true;
  for (const EvalSample* s = begin; s != end; ++s) {
    pred.push_back(s->pred);
    label.push_back(s->label);
    finite = finite && std::isfinite(s->pred) && std::isfinite(s->label);
  }
  if (!finite) return DailyIc{kNaN, kNaN};
  const auto ic = pearson(pred, label);
  if (!ic) return std::nullopt;
  const auto rank_ic = pearson(average_ranks(pred), average_ranks(label));
  if (!rank_ic) return std::nullopt;  // unreachable: values not all equal have ranks not all equal
  return DailyIc{*ic, *rank_ic};
}

// Mean / sample standard deviation (ddof 1); NaN with fewer than 2 values or zero spread.
double information_ratio(const std::vector<double>& values) {
  if (values.size() < 2) return kNaN;
  const double mean = mean_of(values);
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  return sd == 0.0 ? kNaN : mean / sd;
}

}  // namespace

EvalMetrics compute_metrics(std::vector<EvalSample> samples) {
  std::sort(samples.begin(), samples.end(), sample_less);
  EvalMetrics m;
  m.samples = static_cast<int64_t>(samples.size());
  double squared_error = 0.0;
  int64_t correct = 0;
  for (const EvalSample& s : samples) {
    const double err = static_cast<double>(s.pred) - static_cast<double>(s.label);
    squared_error += err * err;
    // Direction: predicted up iff prob_up > 0.5 (exactly 0.5 is down); truly up iff label > 0
    // (a label of exactly 0, or NaN, is down).
    correct += ((s.prob_up > 0.5f) == (s.label > 0.0f)) ? 1 : 0;
  }
  m.mse = samples.empty() ? kNaN : squared_error / static_cast<double>(m.samples);
  m.dir_acc = samples.empty() ? kNaN : static_cast<double>(correct) / static_cast<double>(m.samples);

  std::vector<double> ics, rank_ics;
  for (size_t begin = 0; begin < samples.size();) {
    size_t end = begin + 1;
    while (end < samples.size() && samples[end].date == samples[begin].date) ++end;
    if (const auto daily = daily_ic(samples.data() + begin, samples.data() + end)) {
      ics.push_back(daily->ic);
      rank_ics.push_back(daily->rank_ic);
    }
    begin = end;
  }
  m.dates = static_cast<int64_t>(ics.size());
  m.ic = ics.empty() ? kNaN : mean_of(ics);
  m.rank_ic = rank_ics.empty() ? kNaN : mean_of(rank_ics);
  m.icir = information_ratio(rank_ics);  // ICIR is over the daily *rank* IC series
  return m;
}

EvalMetrics compute_metrics_distributed(comm::Communicator& communicator, const std::vector<EvalSample>& local) {
  static_assert(sizeof(EvalSample) == 16, "EvalSample is gathered as raw bytes");
  // The counts, then each rank's samples as bytes padded to the largest share, in rank order.
  std::vector<int64_t> n{static_cast<int64_t>(local.size())}, counts(static_cast<size_t>(communicator.size()));
  communicator.allgather(comm::host_buffer(n), comm::host_buffer(counts));
  const auto most = static_cast<size_t>(*std::max_element(counts.begin(), counts.end()));
  std::vector<EvalSample> all;
  if (most > 0) {
    const size_t stride = most * sizeof(EvalSample);
    std::vector<uint8_t> send(stride, 0), gathered(stride * counts.size());
    if (!local.empty()) std::memcpy(send.data(), local.data(), local.size() * sizeof(EvalSample));  // data() may be null
    communicator.allgather(comm::host_buffer(send), comm::host_buffer(gathered));
    for (size_t r = 0; r < counts.size(); ++r) {
      const auto* first = reinterpret_cast<const EvalSample*>(gathered.data() + r * stride);
      all.insert(all.end(), first, first + counts[r]);
    }
  }
  return compute_metrics(std::move(all));
}

}  // namespace tickstream
