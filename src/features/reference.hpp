// Plain serial reference of the default feature set and labels (docs/features.md).
#pragma once

#include <cstdint>

#include "features/feature_set.hpp"

namespace tickstream {

// Features of one ticker: out is row-major [s.bars, kFeatureCount], in kFeatureNames order, NaN
// where a feature is undefined (invalid bar, or its window / warm-up not complete in the segment).
void reference_features(const TickerSeries& s, double* out);

// Labels of one ticker: out is row-major [s.bars, kLabelCount] = fwd_logret_<H>, fwd_up_<H>; NaN
// unless bars t..t+horizon are all valid. horizon must be >= 1.
void reference_labels(const TickerSeries& s, int64_t horizon, double* out);

}  // namespace tickstream
