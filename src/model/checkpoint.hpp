// Training checkpoints: model, optimizer, schedule position, RNG, data position, normalization
// statistics and the resolved config, written by rank 0 atomically with an integrity manifest.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.hpp"

namespace tickstream {

// Everything but the tensors of the model and optimizer.
struct CheckpointState {
  int64_t step = 0;           // optimizer steps done
  int64_t epoch = 0;          // data position: the next batch is (epoch, step_in_epoch)
  int64_t step_in_epoch = 0;
  int64_t steps_per_epoch = 0;
  int world_size = 1;
  double best_val_loss = 0;   // early stopping
  int64_t bad_evals = 0;
  double wall_s = 0;          // training time so far
  double label_scale = 1.0;   // the return head predicts label / label_scale
  int64_t n_features = 0;
  std::vector<std::string> feature_names;
  std::vector<double> feature_mean, feature_std;  // normalization statistics (/stats)
  std::string features_hash;  // /features/values config_hash of the store it was trained on
  nlohmann::json config;      // the resolved config (Config::to_json)
  std::string model_id;       // "<kind>-<config hash>-s<step>"

  nlohmann::json to_json() const;
  static CheckpointState from_json(const nlohmann::json& j, const std::string& path);
};

// <dir>/ckpt-<step, 8 digits>.pt plus <same>.json (the manifest: state, byte count, FNV-1a of the
// .pt). Each is written to a temp name, fsynced and renamed, the manifest last, so a checkpoint
// is complete exactly when its manifest exists and matches. Keeps the newest `keep` complete
// checkpoints. Rank 0 only. Returns the .pt path.
std::string save_checkpoint(const std::string& dir, SequenceModelImpl& model,
                            torch::optim::Optimizer& optimizer, const CheckpointState& state, int64_t keep);

// A checkpoint file, or a directory meaning its newest complete checkpoint; nullopt when the
// directory has none. InputError when a file is given that does not exist.
std::optional<std::string> resolve_checkpoint(const std::string& file_or_dir);

// Reads and verifies the manifest (size and hash of the .pt): InputError naming the file on any
// mismatch ("truncated or corrupt").
CheckpointState read_checkpoint_state(const std::string& pt_path);

// Verifies, then loads the tensors into `model` (and `optimizer` when given) on `device`, whatever
// device wrote them (a checkpoint of a CUDA run loads on a CPU-only machine); restores the CPU
// generator state when `restore_rng`. Checkpoints written with libtorch 1.13 load. InputError
// naming the file when libtorch cannot read the archive or its tensors do not fit the model.
CheckpointState load_checkpoint(const std::string& pt_path, SequenceModelImpl& model,
                                torch::optim::Optimizer* optimizer, bool restore_rng, torch::Device device);

}  // namespace tickstream
