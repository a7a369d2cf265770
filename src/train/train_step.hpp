// One optimizer step and one evaluation pass: loss, backward with gradient sync, clipping, AdamW.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "comm/communicator.hpp"
#include "core/config.hpp"
#include "model/model.hpp"
#include "train/batch_source.hpp"
#include "train/grad_sync.hpp"
#include "train/metrics.hpp"

namespace tickstream {

// AdamW with two parameter groups: weight decay on matrices (dim >= 2), none on biases, norms
// and 1-D parameters.
std::unique_ptr<torch::optim::AdamW> make_optimizer(SequenceModelImpl& model, const Config& config);

struct LossParts {
  torch::Tensor total, mse, bce;
};
// (1 - w) * MSE(pred_return, y_return / label_scale) + w * BCE-with-logits(dir_logit, y_up).
LossParts training_loss(const ModelOutput& out, const Batch& batch, double label_scale, double label_weight);

struct StepInputs {
  double lr = 0, clip = 0, label_scale = 1, label_weight = 0.5;
  torch::Device device = torch::kCPU;
  bool bf16 = false;  // forward under bf16 autocast ([train] precision); outputs and loss in float32
};

// The model's forward on `x` (moved to in.device) at the step's precision; outputs in float32.
ModelOutput forward_at_precision(SequenceModelImpl& model, const torch::Tensor& x, const StepInputs& in);
// Forward, loss, backward (gradients averaged across ranks by `sync`), clip, AdamW step.
// Returns this rank's loss.
double train_step(SequenceModelImpl& model, torch::optim::AdamW& optimizer, GradSync& sync,
                  const Batch& batch, const StepInputs& in);

struct EvalResult {
  double val_loss = 0;  // mean over all ranks' validation windows
  EvalMetrics metrics;
};
// Collective: every rank scores its validation windows, then the loss and the cross-sectional
// metrics are computed over all ranks' samples, gathered over `control` (with its timeout: a rank
// that stops anywhere in evaluation is named and ends the job, nothing waits forever). val_loss is
// NaN when no rank has validation windows.
EvalResult evaluate(SequenceModelImpl& model, BatchSource& source, comm::Communicator& control,
                    const StepInputs& in);

}  // namespace tickstream
