// `tickstream predict`: a checkpoint scores every ticker at one as-of date or a range, fanned
// over the ranks (ticker shards), ranked cross-sectionally, written to one sink.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "predict/predictor.hpp"
#include "runtime/rank_context.hpp"

namespace tickstream {

struct PredictRequest {
  std::string checkpoint;     // a .pt file or a checkpoint directory (its newest complete one)
  std::string out;            // .h5 / .csv / postgresql://
  int64_t from = 0, to = 0;   // as-of range, seconds; from == to: one date (--asof)
  double min_confidence = 0;  // rows below are dropped
  int64_t batch_size = 0;     // 0 = auto
};

// Per-phase seconds of a prediction run, each the maximum over ranks.
struct PredictSeconds {
  double load = 0;     // checkpoint, model, store metadata
  double score = 0;    // read + normalize + forward
  double rank = 0, write = 0, total = 0;
  double read_wait = 0, gather = 0, forward = 0, reasons = 0, loader_read = 0;  // inside score
};

// What a prediction run did, identical on every rank (counts summed over ranks).
struct PredictSummary {
  std::string checkpoint, model_id, sink, device, first_asof, last_asof;
  int ranks = 0;
  int64_t batch_size = 0, tickers = 0, asof_bars = 0;
  int64_t scored = 0, below_min_confidence = 0, written = 0, skipped = 0, windows = 0, batches = 0;
  double bytes_read = 0;
  std::map<std::string, int64_t> skipped_by_reason;  // reasons without their dates
  PredictSeconds seconds;
};

// The summary as JSON (the benchmark's "prediction" object; the debug log).
nlohmann::json to_json(const PredictSummary& s);

// Collective (the batch size is agreed; a failure on any rank ends it on all): this rank's
// predictions at bars `asof` over its ticker shard (predict/scoring_plan.hpp: fixed global
// tiles), unranked. Runs with no other HDF5 work in the process.
PredictionSet score_shard(comm::Communicator& comm, const Config& config, const FeatureStoreInfo& store,
                          Predictor& predictor, const std::vector<int64_t>& asof, ScoreTimings& timings);

// Collective. Scores, ranks and writes; returns the run's summary.
PredictSummary run_prediction(RankContext& ctx, const Config& config, const PredictRequest& request);

// args: {config, set, checkpoint, out, asof | from + to, min_confidence (optional), batch_size
// (optional)}. Prints the summary on rank 0.
int predict_command(RankContext& ctx, const nlohmann::json& args);

}  // namespace tickstream
