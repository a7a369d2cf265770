// Learning-rate schedule: linear warmup, then cosine decay to a floor, as a pure function of step.
#pragma once

#include <cstdint>

namespace tickstream {

struct LrSchedule {
  double peak = 3e-4;
  int64_t warmup_steps = 100;
  int64_t total_steps = 1000;
  double floor_fraction = 0.1;  // the decay ends at peak * floor_fraction

  // lr for optimizer step `step` (0-based): peak * (step + 1) / warmup during warmup, then
  // floor + (peak - floor) * (1 + cos(pi * progress)) / 2 with progress in [0, 1].
  double at(int64_t step) const;
};

}  // namespace tickstream
