// `tickstream predict`: checkpoint + store -> per-rank ticker shard -> Predictor -> ranks -> sink.
#include "predict/predict_command.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <spdlog/spdlog.h>

#include "comm/collectives.hpp"
#include "core/error.hpp"
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

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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
nlohmann::json reason_counts(comm::Communicator& comm, const std::vector<Skipped>& skipped) {
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

// Named per-rank values reduced over all ranks with one allreduce of `op`: {name: reduced value}.
template <typename T>
nlohmann::json reduce_named(comm::Communicator& comm, const std::vector<std::pair<const char*, T>>& mine, comm::ReduceOp op) {
  std::vector<T> values;
  for (const auto& named : mine) values.push_back(named.second);
  comm::allreduce_inplace(comm, values, op);
  nlohmann::json out;
  for (size_t i = 0; i < mine.size(); ++i) out[mine[i].first] = values[i];
  return out;
}

}  // namespace

nlohmann::json run_prediction(RankContext& ctx, const Config& config, const PredictRequest& request) {
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
  const double load_s = since(t_start);
  const int64_t group = store::kFeatureChunkTickers;  // the rows of one HDF5 chunk of /features
  const auto rows = ticker_shard(store.tickers_count(), ctx.size(), ctx.rank(), group);
  spdlog::debug("predict: rank {} scores tickers [{}, {}) at {} as-of bars on {}, batch {}", ctx.rank(), rows.first,
                rows.second, asof.size(), device.str(), predictor->batch_size());
  ScoreOptions options;
  // A tile of about one batch of tickers: the forward of one tile overlaps the read of the next.
  options.max_rows = (std::max(config.loader.chunk_tickers, predictor->batch_size()) + group - 1) / group * group;
  options.prefetch = config.loader.prefetch;
  ScoreTimings st;
  PredictionSet set;
  auto t0 = Clock::now();
  run_agreed(comm, [&] { set = predictor->score(store, rows, asof, options, st); });
  const double score_s = since(t0);
  t0 = Clock::now();
  const auto scored_here = static_cast<int64_t>(set.rows.size());
  assign_cross_sectional_ranks(comm, set.rows);
  const int64_t filtered_here = drop_below_confidence(set.rows, request.min_confidence);
  const double rank_s = since(t0);
  t0 = Clock::now();
  maybe_inject_fault("predict_write", comm.rank());  // the others are in the sink's collectives
  sink->write(comm, set);
  const double write_s = since(t0);
  const nlohmann::json counts = reduce_named<int64_t>(
      comm, {{"scored", scored_here}, {"below_min_confidence", filtered_here},
             {"skipped", static_cast<int64_t>(set.skipped.size())}, {"windows", st.windows}, {"batches", st.batches},
             {"bytes_read", static_cast<int64_t>(st.bytes_read)}}, comm::ReduceOp::sum);
  nlohmann::json r{{"checkpoint", checkpoint}, {"model_id", predictor->state().model_id}, {"sink", sink->describe()},
                   {"ranks", ctx.size()}, {"device", device.str()}, {"batch_size", predictor->batch_size()},
                   {"tickers", store.tickers_count()}, {"asof_bars", asof.size()},
                   {"first_asof", format_timestamp(store.time[static_cast<size_t>(asof.front())])},
                   {"last_asof", format_timestamp(store.time[static_cast<size_t>(asof.back())])},
                   {"skipped_by_reason", reason_counts(comm, set.skipped)}};
  r.update(counts);
  r["written"] = counts.at("scored").get<int64_t>() - counts.at("below_min_confidence").get<int64_t>();
  r["bytes_read"] = counts.at("bytes_read").get<double>();
  r["seconds"] = reduce_named<double>(
      comm, {{"load", load_s}, {"score", score_s}, {"rank", rank_s}, {"write", write_s}, {"read_wait", st.read_wait_s},
             {"gather", st.gather_s}, {"forward", st.forward_s}, {"reasons", st.reasons_s}, {"loader_read", st.read_s},
             {"total", since(t_start)}}, comm::ReduceOp::max);
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
  const nlohmann::json r = run_prediction(ctx, config, request);
  spdlog::debug("predict: {}", r.dump());
  if (ctx.is_root()) {
    const nlohmann::json& s = r.at("seconds");
    fmt::print("predict: {} tickers x {} as-of bars ({} .. {}) with {} ({}), {} ranks on {}, batch {}\n",
               r.at("tickers").get<int64_t>(), r.at("asof_bars").get<int64_t>(), r.at("first_asof").get<std::string>(),
               r.at("last_asof").get<std::string>(), r.at("model_id").get<std::string>(),
               r.at("checkpoint").get<std::string>(), r.at("ranks").get<int>(), r.at("device").get<std::string>(),
               r.at("batch_size").get<int64_t>());
    fmt::print("predict: {} scored, {} written, {} below --min-confidence, {} skipped {}\n", r.at("scored").get<int64_t>(),
               r.at("written").get<int64_t>(), r.at("below_min_confidence").get<int64_t>(),
               r.at("skipped").get<int64_t>(), r.at("skipped_by_reason").dump());
    fmt::print("predict: {:.2f} s ({:.0f} scored/s; load {:.2f} s, score {:.2f} s of which forward {:.2f} s, write "
               "{:.2f} s)\n", s.at("total").get<double>(),
               static_cast<double>(r.at("windows").get<int64_t>()) / s.at("total").get<double>(), s.at("load").get<double>(),
               s.at("score").get<double>(), s.at("forward").get<double>(), s.at("write").get<double>());
    fmt::print("predict: wrote {}\n", r.at("sink").get<std::string>());
  }
  return 0;
}

}  // namespace tickstream
