// The data-parallel training loop: model, AdamW, schedule, gradient sync, evaluation, early
// stopping, checkpoints, metrics log, preemption signals.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "model/model.hpp"
#include "train/batch_source.hpp"
#include "data/feature_store.hpp"
#include "train/metrics.hpp"

namespace tickstream {

struct TrainOptions {
  bool resume = false;           // continue from the newest complete checkpoint in checkpoint_dir
  int64_t stop_after = 0;        // stop after this many steps of this run (checkpoint, as if preempted); 0 = off
  bool checkpoints = true;       // write checkpoints (benchmarks turn them off)
  bool metrics_log = true;       // write the metrics .jsonl and progress lines (rank 0)
  bool evaluate = true;          // run evaluations (benchmarks turn them off)
  torch::Device device = torch::kCPU;
  // Normalization statistics to train with instead of the store's /stats (a walk-forward fold
  // fits its own over its train window); null: /stats.
  const NormalizationStats* normalization = nullptr;
  // A checkpoint whose weights start training (a warm-started walk-forward fold); "" = the seed's
  // initialization. The optimizer, schedule and data position start fresh.
  std::string init_weights;
};

struct TrainReport {
  int64_t step = 0;              // optimizer steps done in total
  int64_t steps_this_run = 0;
  double wall_s = 0;             // this run
  double step_s = 0;             // time inside training steps (forward, backward, sync, optimizer)
  double comm_wait_s = 0;        // time blocked on gradient communication
  double samples_per_s = 0;      // all ranks
  double val_loss = 0;
  EvalMetrics val;               // last evaluation
  bool evaluated = false;
  std::string stop_reason;       // "finished" | "max_steps" | "early_stopping" | "signal N" | "stop_after"
  std::string checkpoint;        // the last checkpoint written ("" when none)
  uint64_t parameters_fnv1a = 0; // fingerprint of the final parameters (the same on every rank)
};

// What one optimizer step did (Trainer::step).
struct StepResult {
  int64_t step = 0;           // optimizer steps done in total, this one included
  int64_t epoch = 0;          // the data position after the step
  int64_t step_in_epoch = 0;
  double lr = 0;              // the learning rate the step used
  double loss = 0;            // this rank's training loss of the step's batch
  double seconds = 0;         // forward, backward, gradient sync and optimizer
  double comm_wait_s = 0;     // of which blocked on gradient communication
  double batch_s = 0;         // of which getting the batch (loader wait, assembly, copy enqueue)
};

// One rank's trainer. Collective: every rank constructs it and calls run() (or step()) with its
// own source.
struct TrainerState;

class Trainer {
 public:
  Trainer(const Config& config, comm::Communicator& comm, comm::Communicator& control, BatchSource& source,
          TrainOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains until the schedule ends, early stopping, a stop signal or options.stop_after: steps,
  // with checks, evaluations, checkpoints and the metrics log after them.
  TrainReport run();
  // One optimizer step at the current data position, and nothing else (no evaluation, checkpoint,
  // log or stop check): for callers that drive training themselves (benchmarks, tests, sweeps).
  // Collective.
  StepResult step();
  // Fingerprint of the current parameters (the same on every rank after a step).
  uint64_t parameters_fnv1a() const;
  SequenceModelImpl& model();

 private:
  std::unique_ptr<TrainerState> s_;
};

}  // namespace tickstream
