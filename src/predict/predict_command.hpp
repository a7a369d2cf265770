// `tickstream predict`: a checkpoint scores every ticker at one as-of date or a range, fanned
// over the ranks (ticker shards), ranked cross-sectionally, written to one sink.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {

struct PredictRequest {
  std::string checkpoint;     // a .pt file or a checkpoint directory (its newest complete one)
  std::string out;            // .h5 / .csv / postgresql://
  int64_t from = 0, to = 0;   // as-of range, seconds; from == to: one date (--asof)
  double min_confidence = 0;  // rows below are dropped
  int64_t batch_size = 0;     // 0 = auto
};

// Collective. Returns the run's summary (identical on every rank): counts, the checkpoint and
// model id, and per-phase seconds (the maximum over ranks) under "seconds": load (checkpoint,
// model, store metadata), score (read + normalize + forward), rank, write, total; and the
// scoring breakdown (read_wait, gather, forward, reasons, loader read).
nlohmann::json run_prediction(RankContext& ctx, const Config& config, const PredictRequest& request);

// args: {config, set, checkpoint, out, asof | from + to, min_confidence (optional), batch_size
// (optional)}. Prints the summary on rank 0.
int predict_command(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
