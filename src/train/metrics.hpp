// Validation metrics: MSE, directional accuracy, cross-sectional IC / rank IC / ICIR, local and over MPI.
#pragma once


#include <cstdint>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream {

// One validation prediction. `date` identifies the cross-section the sample belongs to (the bar
// index of the window's as-of time: every ticker predicted for the same bar shares it).
struct EvalSample {
  int32_t date = 0;
  float pred = 0.0f;     // predicted forward log return
  float label = 0.0f;    // realized forward log return; the direction truth is label > 0
  float prob_up = 0.0f;  // predicted probability that label > 0
};

// Cross-sectional statistics need at least this many samples on a date; smaller dates are
// skipped by IC, rank IC and ICIR (they still count in mse, dir_acc and samples).
inline constexpr int64_t kMinSamplesPerDate = 5;

// Metrics over a set of EvalSamples. A value that is undefined is NaN (written as null in the
// metrics log): mse and dir_acc with no samples; ic and rank_ic with no usable date; icir with
// fewer than 2 usable dates or a zero spread of the daily rank ICs.
struct EvalMetrics {
  double mse = 0.0;      // mean of (pred - label)^2
  double dir_acc = 0.0;  // fraction of samples with (prob_up > 0.5) == (label > 0)
  double ic = 0.0;       // mean over usable dates of the Pearson correlation of pred and label
  double rank_ic = 0.0;  // the same with the Spearman correlation (average ranks for ties)
  double icir = 0.0;     // mean / sample standard deviation (ddof 1) of the daily rank ICs
  int64_t samples = 0;   // all samples
  int64_t dates = 0;     // usable dates: the ones IC, rank IC and ICIR average over
};

// Metrics of `samples`; the result depends only on the multiset of samples, not on their order
// (they are sorted first), so any split across ranks gives bit-identical metrics.
//
// A date is usable when it has >= kMinSamplesPerDate samples and neither its preds nor its
// labels are all equal (zero variance: the correlation is undefined). A non-finite pred or
// label is not filtered: it makes mse NaN, and the IC and rank IC of its date NaN (so a
// diverged model shows as NaN rather than as a plausible number).
EvalMetrics compute_metrics(std::vector<EvalSample> samples);

// Collective over `comm`: every rank gets compute_metrics of the union of all ranks' samples
// (any rank may hold none). The samples are gathered on every rank (16 bytes each: validation
// sets are small, e.g. 1M samples = 16 MB per rank) through the communicator, with its timeout:
// a rank that never arrives is named and ends the job instead of hanging the others.
EvalMetrics compute_metrics_distributed(comm::Communicator& communicator, const std::vector<EvalSample>& local);

}  // namespace tickstream
