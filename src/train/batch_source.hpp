// Batch sources for training and evaluation: the interface the trainer pulls from (the store's
// implementation is train/streaming_source.hpp).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "data/chunk_loader.hpp"
#include "model/batch_assembler.hpp"

namespace tickstream {

// How the inputs were normalized (stored in checkpoints, used again by predict).
struct Normalization {
  std::vector<std::string> feature_names;
  std::vector<double> mean, std;
  std::string features_hash;  // /features/values config_hash
};

// What the trainer needs from a data source. Batches are pure functions of (seed, rank, epoch,
// step), so a resumed run continues with exactly the batch it would have drawn next.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t features() const = 0;
  virtual int64_t steps_per_epoch() const = 0;  // the same on every rank (agreed up front)
  virtual int64_t train_samples() const = 0;    // this rank's training windows
  virtual Batch train_batch(int64_t epoch, int64_t step) = 0;
  virtual int64_t validation_batches() const = 0;  // this rank's, in a fixed order
  virtual Batch validation_batch(int64_t index) = 0;
  // Standard deviation of the training labels over all ranks: the return head predicts
  // label / label_scale.
  virtual double label_scale() const = 0;
  virtual std::string describe() const = 0;
  virtual Normalization normalization() const { return {}; }
  // Loader statistics of the current epoch so far; nullopt for sources without a loader.
  virtual std::optional<LoaderStats> loader_stats() const { return std::nullopt; }
};


}  // namespace tickstream
