// Optimizer construction, loss, one data-parallel step, distributed evaluation.
#include "train/train_step.hpp"

#include <limits>

#include "train/precision.hpp"

namespace tickstream {

std::unique_ptr<torch::optim::AdamW> make_optimizer(SequenceModelImpl& model, const Config& config) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto options = torch::optim::AdamWOptions(config.train.lr).weight_decay(config.train.weight_decay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(options));
  auto none = options;
  none.weight_decay(0.0);
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(none));
  return std::make_unique<torch::optim::AdamW>(groups, options);
}

LossParts training_loss(const ModelOutput& out, const Batch& batch, double label_scale, double label_weight) {
  LossParts l;
  l.mse = torch::mse_loss(out.pred_return, batch.y_return.to(out.pred_return.device()) / label_scale);
  l.bce = torch::binary_cross_entropy_with_logits(out.dir_logit, batch.y_up.to(out.dir_logit.device()));
  l.total = (1.0 - label_weight) * l.mse + label_weight * l.bce;
  return l;
}

ModelOutput forward_at_precision(SequenceModelImpl& model, const torch::Tensor& x, const StepInputs& in) {
  AutocastScope autocast(in.bf16, in.device);
  const ModelOutput out = model.forward(x.to(in.device, /*non_blocking=*/true));
  return {out.pred_return.to(torch::kFloat32), out.dir_logit.to(torch::kFloat32)};
}

double train_step(SequenceModelImpl& model, torch::optim::AdamW& optimizer, GradSync& sync,
                  const Batch& batch, const StepInputs& in) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(in.lr);
  optimizer.zero_grad();
  const ModelOutput out = forward_at_precision(model, batch.x, in);
  const LossParts loss = training_loss(out, batch, in.label_scale, in.label_weight);
  sync.begin_step();
  loss.total.backward();
  sync.end_step();
  if (in.clip > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), in.clip);
  optimizer.step();
  return loss.total.item<double>();
}

EvalResult evaluate(SequenceModelImpl& model, BatchSource& source, comm::Communicator& control,
                    const StepInputs& in) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<EvalSample> samples;
  std::vector<double> sums{0.0, 0.0};  // loss * n, n
  for (int64_t i = 0; i < source.validation_batches(); ++i) {
    const Batch batch = source.validation_batch(i);
    const ModelOutput out = forward_at_precision(model, batch.x, in);
    const double n = static_cast<double>(batch.size());
    sums[0] += training_loss(out, batch, in.label_scale, in.label_weight).total.item<double>() * n;
    sums[1] += n;
    const torch::Tensor pred = (out.pred_return * in.label_scale).to(torch::kCPU).contiguous();
    const torch::Tensor prob = direction_probability(out.dir_logit).to(torch::kCPU).contiguous();
    const float* p = pred.data_ptr<float>();
    const float* up = prob.data_ptr<float>();
    const torch::Tensor y_host = batch.y_return.to(torch::kCPU).contiguous();
    const float* y = y_host.data_ptr<float>();
    for (int64_t j = 0; j < batch.size(); ++j)
      samples.push_back(EvalSample{batch.dates[static_cast<size_t>(j)], p[j], y[j], up[j]});
  }
  model.train();
  control.allreduce(comm::host_buffer(sums), comm::ReduceOp::sum);
  EvalResult r;
  r.val_loss = sums[1] > 0 ? sums[0] / sums[1] : std::numeric_limits<double>::quiet_NaN();
  r.metrics = compute_metrics_distributed(control, samples);
  return r;
}

}  // namespace tickstream
