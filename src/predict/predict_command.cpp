// `tickstream predict`: checkpoint + store -> per-rank ticker shard -> Predictor -> ranks -> sink.
#include "predict/predict_command.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <spdlog/spdlog.h>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/time.hpp"
#include "features/feature_writer.hpp"
#include "predict/cross_section.hpp"
#include "predict/predictor.hpp"
#include "predict/scoring_plan.hpp"
#include "comm/agreement.hpp"
#include "model/device.hpp"
#include "runtime/fault.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;

std::string resolve(const std::string& checkpoint) {
  const auto path = resolve_checkpoint(checkpoint);
  TS_REQUIRE_INPUT(path.has_value(), "--checkpoint {}: no complete checkpoint in that directory", checkpoint);
  return *path;
}

int64_t parse_date_arg(const nlohmann::json& args, const char* key) {
  const std::string text = args.at(key).get<std::string>();
  const auto t = parse_timestamp(text);
  TS_REQUIRE_INPUT(t.has_value(), "--{} {}: expected a date (YYYY-MM-DD) or a timestamp (YYYY-MM-DDTHH:MM[:SS][Z])",
                   key, text);
  return *t;
}

// Counts of the skipped tickers by reason, with the dates stripped ("delisted", "not listed yet", ...).
std::map<std::string, int64_t> reason_counts(comm::Communicator& comm, const std::vector<Skipped>& skipped) {
  std::map<std::string, int64_t> mine;
  for (const Skipped& s : skipped) ++mine[s.reason.substr(0, s.reason.find(" ("))];
  std::vector<std::string> flat;
  for (const auto& [reason, n] : mine) flat.push_back(reason + "\t" + std::to_string(n));
  std::map<std::string, int64_t> all;
  for (const std::string& e : comm::allgather_strings(comm, flat)) {
    const size_t tab = e.find('\t');
    all[e.substr(0, tab)] += std::stoll(e.substr(tab + 1));
  }
  return all;
}

// Reduces the fields in place over all ranks with one allreduce of `op`.
template <typename T>
void reduce_fields(comm::Communicator& comm, std::initializer_list<T*> fields, comm::ReduceOp op) {
  std::vector<T> values;
  for (T* f : fields) values.push_back(*f);
  comm::allreduce_inplace(comm, values, op);
  size_t i = 0;
  for (T* f : fields) *f = values[i++];
}

}  // namespace

nlohmann::json to_json(const PredictSummary& s) {
  const PredictSeconds& t = s.seconds;
  return {{"checkpoint", s.checkpoint}, {"model_id", s.model_id}, {"sink", s.sink}, {"ranks", s.ranks},
          {"device", s.device}, {"batch_size", s.batch_size}, {"tickers", s.tickers}, {"asof_bars", s.asof_bars},
          {"first_asof", s.first_asof}, {"last_asof", s.last_asof}, {"skipped_by_reason", s.skipped_by_reason},
          {"scored", s.scored}, {"below_min_confidence", s.below_min_confidence}, {"skipped", s.skipped},
          {"windows", s.windows}, {"batches", s.batches}, {"written", s.written}, {"bytes_read", s.bytes_read},
          {"seconds", {{"load", t.load}, {"score", t.score}, {"rank", t.rank}, {"write", t.write},
                       {"read_wait", t.read_wait}, {"gather", t.gather}, {"forward", t.forward},
                       {"reasons", t.reasons}, {"loader_read", t.loader_read}, {"total", t.total}}}};
}

PredictionSet score_shard(comm::Communicator& comm, const Config& config, const FeatureStoreInfo& store,
                          Predictor& predictor, const std::vector<int64_t>& asof, ScoreTimings& timings) {
  const int64_t group = store::kFeatureChunkTickers;  // the rows of one HDF5 chunk of /features
  // Fixed global tiles of about one batch of tickers (the forward of one tile overlaps the read of
  // the next), the same at every rank count: ranks own whole tiles and batches never span two, so
  // every window is scored in the same batch, and predictions are bit-identical at any rank count.
  const int64_t batch = comm::allreduce<int64_t>(comm, predictor.batch_size(), comm::ReduceOp::min);
  ScoreOptions options;
  options.max_rows = (std::max(config.loader.chunk_tickers, batch) + group - 1) / group * group;
  const auto rows = ticker_shard(store.tickers_count(), comm.size(), comm.rank(), options.max_rows);
  spdlog::debug("predict: rank {} scores tickers [{}, {}) at {} as-of bars on {}, batch {}, tiles of {} tickers",
                comm.rank(), rows.first, rows.second, asof.size(), predictor.device().str(), predictor.batch_size(),
                options.max_rows);
  options.prefetch = config.loader.prefetch;
  options.batch = batch;
  PredictionSet set;
  run_agreed(comm, [&] { set = predictor.score(store, rows, asof, options, timings); });
  return set;
}

PredictSummary run_prediction(RankContext& ctx, const Config& config, const PredictRequest& request) {
  comm::Communicator& comm = ctx.comm();
  const auto t_start = Clock::now();
  const torch::Device device = prepare_device(ctx);
  std::unique_ptr<PredictionSink> sink;
  std::unique_ptr<Predictor> predictor;
  FeatureStoreInfo store;
  std::vector<int64_t> asof;
  std::string checkpoint;
  run_agreed(comm, [&] {
    sink = make_sink(request.out);
    checkpoint = resolve(request.checkpoint);
    store = read_feature_info(StoreReader(config.data.store));
    asof = asof_bars(store.time, request.from, request.to, request.from == request.to ? "--asof" : "--from/--to");
    predictor = std::make_unique<Predictor>(checkpoint, store, device, request.batch_size);
  });
  const double load_s = seconds_since(t_start);
  ScoreTimings st;
  auto t0 = Clock::now();
  PredictionSet set = score_shard(comm, config, store, *predictor, asof, st);
  const double score_s = seconds_since(t0);
  t0 = Clock::now();
  const auto scored_here = static_cast<int64_t>(set.rows.size());
  assign_cross_sectional_ranks(comm, set.rows);
  const int64_t filtered_here = drop_below_confidence(set.rows, request.min_confidence);
  const double rank_s = seconds_since(t0);
  t0 = Clock::now();
  maybe_inject_fault("predict_write", comm.rank());  // the others are in the sink's collectives
  sink->write(comm, set);
  const double write_s = seconds_since(t0);
  PredictSummary r;
  r.checkpoint = checkpoint, r.model_id = predictor->state().model_id, r.sink = sink->describe();
  r.ranks = ctx.size(), r.device = device.str(), r.batch_size = predictor->batch_size();
  r.tickers = store.tickers_count(), r.asof_bars = static_cast<int64_t>(asof.size());
  r.first_asof = format_timestamp(store.time[static_cast<size_t>(asof.front())]);
  r.last_asof = format_timestamp(store.time[static_cast<size_t>(asof.back())]);
  r.skipped_by_reason = reason_counts(comm, set.skipped);
  r.scored = scored_here, r.below_min_confidence = filtered_here, r.skipped = static_cast<int64_t>(set.skipped.size());
  r.windows = st.windows, r.batches = st.batches;
  auto bytes = static_cast<int64_t>(st.bytes_read);
  reduce_fields<int64_t>(comm, {&r.scored, &r.below_min_confidence, &r.skipped, &r.windows, &r.batches, &bytes},
                         comm::ReduceOp::sum);
  r.written = r.scored - r.below_min_confidence;
  r.bytes_read = static_cast<double>(bytes);
  PredictSeconds& t = r.seconds;
  t.load = load_s, t.score = score_s, t.rank = rank_s, t.write = write_s, t.read_wait = st.read_wait_s;
  t.gather = st.gather_s, t.forward = st.forward_s, t.reasons = st.reasons_s, t.loader_read = st.read_s;
  t.total = seconds_since(t_start);
  reduce_fields<double>(comm, {&t.load, &t.score, &t.rank, &t.write, &t.read_wait, &t.gather, &t.forward, &t.reasons,
                               &t.loader_read, &t.total}, comm::ReduceOp::max);
  return r;
}

int predict_command(RankContext& ctx, const nlohmann::json& args) {
  Config config;
  PredictRequest request;
  run_agreed(ctx.comm(), [&] {
    config = load_config(args.at("config").get<std::string>(), args.at("set").get<std::vector<std::string>>());
    request.checkpoint = args.at("checkpoint").get<std::string>();
    request.out = args.at("out").get<std::string>();
    if (args.contains("asof")) {
      request.from = request.to = parse_date_arg(args, "asof");
    } else {
      request.from = parse_date_arg(args, "from"), request.to = parse_date_arg(args, "to");
    }
    request.min_confidence = args.value("min_confidence", config.predict.min_confidence);
    TS_REQUIRE_INPUT(request.min_confidence >= 0 && request.min_confidence <= 1,
                     "--min-confidence {}: expected a number in [0, 1]", request.min_confidence);
    request.batch_size = config.predict.batch_size;
  });
  const PredictSummary r = run_prediction(ctx, config, request);
  spdlog::debug("predict: {}", to_json(r).dump());
  if (ctx.is_root()) {
    const PredictSeconds& s = r.seconds;
    fmt::print("predict: {} tickers x {} as-of bars ({} .. {}) with {} ({}), {} ranks on {}, batch {}\n", r.tickers,
               r.asof_bars, r.first_asof, r.last_asof, r.model_id, r.checkpoint, r.ranks, r.device, r.batch_size);
    fmt::print("predict: {} scored, {} written, {} below --min-confidence, {} skipped {}\n", r.scored, r.written,
               r.below_min_confidence, r.skipped, nlohmann::json(r.skipped_by_reason).dump());
    fmt::print("predict: {:.2f} s ({:.0f} scored/s; load {:.2f} s, score {:.2f} s of which forward {:.2f} s, write "
               "{:.2f} s)\n", s.total, static_cast<double>(r.windows) / s.total, s.load, s.score, s.forward, s.write);
    fmt::print("predict: wrote {}\n", r.sink);
  }
  return 0;
}

}  // namespace tickstream
