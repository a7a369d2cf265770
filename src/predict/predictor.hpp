// Batched inference of one checkpoint over a store: read tiles -> valid windows -> normalized
// batches -> the model's forward on the rank's device -> predictions and skipped tickers.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "data/feature_store.hpp"
#include "data/loader_stats.hpp"
#include "model/model.hpp"
#include "predict/prediction.hpp"
#include "model/checkpoint.hpp"

namespace tickstream {

// Where one rank's scoring time went (seconds on the calling thread, which only waits for reads:
// the chunk loader reads on its own thread).
struct ScoreTimings {
  double read_wait_s = 0;  // waiting for the next tile from the loader
  double gather_s = 0;     // validity checks, window gather + normalize
  double forward_s = 0;    // model forward, device copies, outputs back to the host
  double reasons_s = 0;    // /raw/valid reads for the skipped tickers' reasons
  double read_s = 0;       // loader thread: HDF5 reads (overlaps the above)
  double bytes_read = 0;
  int64_t windows = 0, batches = 0, tiles = 0;
};

struct ScoreOptions {
  int64_t max_rows = 256;           // tile rows ([loader] chunk_tickers)
  size_t tile_budget_bytes = 64u << 20;   // bytes one tile read may take
  int64_t prefetch = 2;             // [loader] prefetch
  int64_t batch = 0;                // windows per forward (0: the predictor's batch size)
};

// Batch size for `batch_size` = 0 ("auto"): on a CUDA device the largest power of two whose
// estimated activations fit half the device's free memory (at most 65536); on the CPU 128.
int64_t auto_predict_batch(const Config::Model& model, int64_t features, const torch::Device& device);

// The [model] section a checkpoint was trained with (its stored resolved config).
Config::Model checkpoint_model(const CheckpointState& state, const std::string& path);

class Predictor {
 public:
  // Verifies and loads `checkpoint` into the model it describes, in eval mode on `device`, and
  // runs one forward of a zero batch: a process's first forward pays for BLAS buffers, fresh
  // memory and lazy initialization (~40 ms, 5x a later batch, on the 2-core VM; on a GPU the
  // CUDA context and cuBLAS), which belongs to loading, not to scoring. InputError when the
  // checkpoint's feature set differs from the store's (the difference named).
  Predictor(const std::string& checkpoint, const FeatureStoreInfo& store, torch::Device device, int64_t batch_size);

  const CheckpointState& state() const { return state_; }
  const Config::Model& model_config() const { return model_config_; }
  int64_t batch_size() const { return batch_size_; }
  const torch::Device& device() const { return device_; }

  // Scores tickers [rows.first, rows.second) at each as-of bar (ascending): windows of seq_len
  // bars ending at the as-of bar with features at every bar. Returns the predictions (rank
  // unset) and the skipped tickers with their reasons, both in (as-of, ticker) order; non-finite
  // outputs are skipped as "non-finite prediction". Opens its own handles on the store; call it
  // with no other HDF5 work running in the process.
  PredictionSet score(const FeatureStoreInfo& store, std::pair<int64_t, int64_t> rows,
                      const std::vector<int64_t>& asof, const ScoreOptions& options, ScoreTimings& timings);

 private:
  void warm_up(int64_t features);

  CheckpointState state_;
  Config::Model model_config_;
  std::shared_ptr<SequenceModelImpl> model_;
  torch::Device device_;
  int64_t batch_size_ = 0;
};

}  // namespace tickstream
