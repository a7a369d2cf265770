// Predictor: checkpoint -> model on the rank's device; tiles -> windows -> batched forward.
#include "predict/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "data/chunk_loader.hpp"
#include "data/normalizer.hpp"
#include "model/batch_assembler.hpp"
#include "model/memory_fit.hpp"
#include "model/pinned_memory.hpp"
#include "runtime/device_info.hpp"
#include "predict/feature_match.hpp"
#include "predict/scoring_plan.hpp"
#include "store/store_reader.hpp"

namespace tickstream {
namespace {

// CPU: small batches keep a block's activations in cache; 64-128 were fastest for the quickstart
// GPT on the 2-core VM (13.5k windows/s; 1024: 11.6k; bench predict).
constexpr int64_t kCpuBatch = 128;
constexpr int64_t kMaxAutoBatch = 65536;

// A window that could not be scored, and the consecutive valid bars it had.
struct Failure {
  Window w;
  int64_t run = 0;
};

// Collects windows into batches (model/batch_assembler.hpp) and runs the forward on each full one.
class Batcher {
 public:
  Batcher(SequenceModelImpl& model, BatchAssembler& assembler, int64_t batch, double label_scale,
          ScoreTimings& timings)
      : model_(model), assembler_(assembler), batch_(batch), label_scale_(label_scale), timings_(timings) {
    assembler_.begin(batch_, /*with_labels=*/false);
  }

  // Windows (store row, end bar) of chunk `c`.
  void add(const std::shared_ptr<const Chunk>& c, const std::vector<Window>& w) {
    for (size_t i = 0; i < w.size();) {
      const auto t0 = std::chrono::steady_clock::now();
      const size_t n = std::min(w.size() - i, static_cast<size_t>(batch_ - assembler_.size()));
      assembler_.add(c, w.data() + i, static_cast<int64_t>(n));
      i += n;
      timings_.gather_s += seconds_since(t0);
      if (assembler_.size() == batch_) flush();
    }
  }

  void flush() {
    if (assembler_.size() == 0) return;
    const auto t0 = std::chrono::steady_clock::now();
    const Batch b = assembler_.finish();
    assembler_.begin(batch_, /*with_labels=*/false);
    torch::InferenceMode inference;
    const ModelOutput out = model_.forward(b.x);
    const torch::Tensor prob = direction_probability(out.dir_logit);
    append(pred_, (out.pred_return * label_scale_).to(torch::kCPU));
    append(prob_, prob.to(torch::kCPU));
    append(conf_, confidence_from_probability(prob).to(torch::kCPU));
    for (int64_t k = 0; k < b.size(); ++k)
      windows_.push_back(Window{b.rows[static_cast<size_t>(k)], b.dates[static_cast<size_t>(k)]});
    timings_.forward_s += seconds_since(t0);
    spdlog::debug("predict: batch {} of {} windows: forward {:.4f} s", timings_.batches, b.size(), seconds_since(t0));
    timings_.windows += b.size();
    timings_.batches += 1;
  }

  std::vector<Window> windows_;
  std::vector<float> pred_, prob_, conf_;

 private:
  static void append(std::vector<float>& to, const torch::Tensor& t) {
    const torch::Tensor c = t.contiguous();
    to.insert(to.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }

  SequenceModelImpl& model_;
  BatchAssembler& assembler_;
  int64_t batch_;
  double label_scale_;
  ScoreTimings& timings_;
};

// Sends every as-of window of one chunk to the batcher, or to `failures` when it lacks history.
void collect(const std::shared_ptr<const Chunk>& chunk, const std::vector<int64_t>& asof, int64_t seq_len,
             int64_t span, Batcher& batcher, std::vector<Failure>& failures) {
  const Chunk& c = *chunk;
  std::vector<Window> windows;
  const auto first = std::lower_bound(asof.begin(), asof.end(), c.tile.bar_begin);
  for (auto it = first; it != asof.end() && *it < c.tile.bar_begin + c.tile.bars; ++it) {
    const auto end = static_cast<int32_t>(*it - c.bar0);
    for (int64_t r = 0; r < c.tile.rows; ++r) {
      const uint8_t* valid = c.valid.data() + r * c.bars;
      const int64_t run = span > seq_len ? valid_in_span(valid, end, span, seq_len) : valid_history(valid, end, seq_len);
      if (run >= seq_len) {
        windows.push_back(Window{static_cast<int32_t>(c.tile.row_begin + r), static_cast<int32_t>(*it)});
      } else {
        failures.push_back({Window{static_cast<int32_t>(c.tile.row_begin + r), static_cast<int32_t>(*it)}, run});
      }
    }
  }
  batcher.add(chunk, windows);
}

bool before(const Window& a, const Window& b) { return a.end != b.end ? a.end < b.end : a.row < b.row; }

// The skipped tickers with their reasons, from /raw/valid of the rows that have any.
std::vector<Skipped> explain(const FeatureStoreInfo& store, std::pair<int64_t, int64_t> rows,
                             const std::vector<int64_t>& asof, const std::vector<Failure>& failures, int64_t seq_len,
                             int64_t span) {
  std::vector<Skipped> out;
  if (failures.empty()) return out;
  const StoreReader reader(store.path);
  const RawPresence p = read_raw_presence(reader, rows.first, rows.second, asof);
  for (const Failure& f : failures) {
    const auto r = static_cast<size_t>(f.w.row - rows.first);
    const auto k = static_cast<size_t>(std::lower_bound(asof.begin(), asof.end(), f.w.end) - asof.begin());
    out.push_back({store.tickers[static_cast<size_t>(f.w.row)], store.time[static_cast<size_t>(f.w.end)],
                   skip_reason(p.spans[r], p.at[r * asof.size() + k] != 0, f.run, seq_len, f.w.end, store.time, span)});
  }
  return out;
}

// Predictions and skipped tickers in (as-of, ticker) order; non-finite outputs become skipped.
PredictionSet assemble(const FeatureStoreInfo& store, const Batcher& b, std::vector<Failure> failures,
                       std::vector<Skipped> explained, const std::string& model_id) {
  std::vector<size_t> order(b.windows_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return before(b.windows_[x], b.windows_[y]); });
  PredictionSet out;
  std::vector<std::pair<Window, Skipped>> skipped;
  for (size_t i = 0; i < failures.size(); ++i) skipped.emplace_back(failures[i].w, std::move(explained[i]));
  for (size_t i : order) {
    const Window& w = b.windows_[i];
    const std::string& ticker = store.tickers[static_cast<size_t>(w.row)];
    const int64_t t = store.time[static_cast<size_t>(w.end)];
    if (!std::isfinite(b.pred_[i]) || !std::isfinite(b.prob_[i])) {
      skipped.emplace_back(w, Skipped{ticker, t, "non-finite prediction"});
      continue;
    }
    out.rows.push_back({ticker, t, b.pred_[i], b.prob_[i], b.conf_[i], 0, model_id});
  }
  std::stable_sort(skipped.begin(), skipped.end(), [](const auto& x, const auto& y) { return before(x.first, y.first); });
  for (auto& s : skipped) out.skipped.push_back(std::move(s.second));
  return out;
}

}  // namespace

int64_t auto_predict_batch(const Config::Model& model, int64_t features, const torch::Device& device) {
  if (!device.is_cuda()) return kCpuBatch;
  // x2: the input batch and the activations of its forward
  return largest_fitting_batch(2.0 * inference_activation_bytes(model, features),
                               static_cast<double>(device_free_bytes(device.index())), kMaxAutoBatch);
}

Config::Model checkpoint_model(const CheckpointState& state, const std::string& path) {
  try {
    const nlohmann::json& m = state.config.at("model");
    Config::Model out;
    out.kind = m.at("kind").get<std::string>();
    out.d_model = m.at("d_model").get<int64_t>();
    out.n_layers = m.at("n_layers").get<int64_t>();
    out.n_heads = m.at("n_heads").get<int64_t>();
    out.seq_len = m.at("seq_len").get<int64_t>();
    out.dropout = m.at("dropout").get<double>();
    return out;
  } catch (const nlohmann::json::exception& e) {
    TS_INPUT_ERROR("{}: the manifest's [model] section is incomplete: {}", path, e.what());
  }
}

Predictor::Predictor(const std::string& checkpoint, const FeatureStoreInfo& store, torch::Device device,
                     int64_t batch_size)
    : state_(read_checkpoint_state(checkpoint)), model_config_(checkpoint_model(state_, checkpoint)), device_(device) {
  require_same_features(checkpoint, state_.feature_names, store.path, store.feature_names);
  model_ = make_model(model_config_, store.features(), 0);
  load_checkpoint(checkpoint, *model_, nullptr, /*restore_rng=*/false, device_);
  model_->eval();
  batch_size_ = batch_size > 0 ? batch_size : auto_predict_batch(model_config_, store.features(), device_);
  warm_up(store.features());
}

void Predictor::warm_up(int64_t features) {
  torch::InferenceMode inference;
  const torch::Tensor x = torch::zeros({batch_size_, model_config_.seq_len, features}, torch::TensorOptions().device(device_));
  model_->forward(x);
  if (device_.is_cuda()) torch::cuda::synchronize(device_.index());
}

PredictionSet Predictor::score(const FeatureStoreInfo& store, std::pair<int64_t, int64_t> rows,
                               const std::vector<int64_t>& asof, const ScoreOptions& options, ScoreTimings& timings) {
  const int64_t seq_len = model_config_.seq_len, span = seq_len + window_slack(store);
  const Normalizer norm(state_.feature_mean, state_.feature_std);
  const auto assembler = make_batch_assembler(norm, seq_len, store.features(), device_);
  Batcher batcher(*model_, *assembler, options.batch > 0 ? options.batch : batch_size_, state_.label_scale, timings);
  std::vector<Failure> failures;
  {
    ChunkReader reader(store.path, span, /*with_labels=*/false);  // tiles with the window rule's history
    if (device_.is_cuda()) reader.set_host_memory(pinned_host_memory());  // asynchronous copies to the device
    std::vector<Tile> tiles = score_tiles(rows, asof, span, store.features(), options.max_rows, options.tile_budget_bytes);
    timings.tiles = static_cast<int64_t>(tiles.size());
    ChunkLoader loader(reader, std::move(tiles), options.prefetch, nullptr);
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      assembler->release_host(/*wait=*/options.prefetch == 0);
      const std::shared_ptr<const Chunk> chunk = loader.next();
      timings.read_wait_s += seconds_since(t0);
      if (!chunk) break;
      collect(chunk, asof, seq_len, span, batcher, failures);
      batcher.flush();  // batches never span two tiles: the same batches at every rank count
    }
    const LoaderStats s = loader.stats();
    timings.read_s = s.read_s, timings.bytes_read = s.bytes_read;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Skipped> explained = explain(store, rows, asof, failures, seq_len, span);
  timings.reasons_s = seconds_since(t0);
  return assemble(store, batcher, std::move(failures), std::move(explained), state_.model_id);
}

}  // namespace tickstream
