// Prediction benchmark worker: an initialized checkpoint, then run_prediction at the last bar, timed.
#include "bench/bench_predict.hpp"

#include <string>

#include "core/error.hpp"
#include "data/feature_store.hpp"
#include "model/model.hpp"
#include "predict/predict_command.hpp"
#include "comm/agreement.hpp"
#include "store/file_util.hpp"
#include "store/store_reader.hpp"
#include "bench/bench_train.hpp"
#include "model/checkpoint.hpp"
#include "train/train_step.hpp"

namespace tickstream {
namespace {

// The initialized checkpoint for this store, and what the report says about it. Rank 0 only.
nlohmann::json init_checkpoint(const Config& config, const std::string& dir) {
  const FeatureStoreInfo store = read_feature_info(StoreReader(config.data.store));
  const InitialCheckpoint c = save_initial_checkpoint(config, store, dir, 1.0);
  return {{"checkpoint", c.path}, {"model_id", c.model_id}, {"parameters", c.parameters}};
}

}  // namespace

InitialCheckpoint save_initial_checkpoint(const Config& config, const FeatureStoreInfo& store, const std::string& dir,
                                          double label_scale) {
  auto model = make_model(config.model, store.features(), static_cast<uint64_t>(config.train.seed));
  auto optimizer = make_optimizer(*model, config);
  CheckpointState s;
  s.label_scale = label_scale;
  s.n_features = store.features();
  s.feature_names = store.feature_names;
  s.feature_mean = store.mean;
  s.feature_std = store.std;
  s.features_hash = store.features_hash;
  s.config = config.to_json();
  s.model_id = fmt::format("{}-{}-s0", config.model.kind, config.hash().substr(0, 8));
  InitialCheckpoint out{save_checkpoint(dir, *model, *optimizer, s, /*keep=*/1), s.model_id, 0};
  for (const auto& p : model->parameters()) out.parameters += p.numel();
  return out;
}

int bench_predict_worker(RankContext& ctx, const nlohmann::json& args) {
  Config config;
  run_agreed(ctx.comm(), [&] { config = load_config(args.at("config").get<std::string>()); });
  const std::string report = args.at("report").get<std::string>();
  if (args.value("init", false)) {
    TS_CHECK(ctx.size() == 1, "bench predict: the checkpoint is written by a 1-rank run ({} ranks)", ctx.size());
    write_file_atomically(report, init_checkpoint(config, args.at("checkpoint").get<std::string>()).dump(2) + "\n");
    return 0;
  }
  FeatureStoreInfo store;
  run_agreed(ctx.comm(), [&] { store = read_feature_info(StoreReader(config.data.store)); });
  PredictRequest request;
  request.checkpoint = args.at("checkpoint").get<std::string>();
  request.out = args.at("out").get<std::string>();
  request.from = request.to = store.time.back();  // the daily job: every ticker at the latest bar
  request.batch_size = config.predict.batch_size;
  const nlohmann::json summary = to_json(run_prediction(ctx, config, request));
  nlohmann::json j{{"ranks", ctx.size()},
                   {"threads_per_rank", at::get_num_threads()},
                   {"features", store.features()},
                   {"forward_flops_per_sample", forward_flops_per_sample(config.model, store.features())},
                   {"prediction", summary}};
  if (args.value("gemm", false)) j["gemm"] = gemm_reference(ctx.comm(), {512, 1024}, 5, 4);
  if (ctx.is_root()) write_file_atomically(report, j.dump(2) + "\n");
  return 0;
}

}  // namespace tickstream
