// [train] precision: the autocast scope turns matrix products to bf16 on the CPU and restores the
// previous state; the step's forward returns float32 outputs close to, but not equal to, fp32's.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.hpp"
#include "model/model.hpp"
#include "train/precision.hpp"
#include "train/train_step.hpp"

namespace tickstream {
namespace {

TEST(Precision, AutocastScopeCastsMatmulAndRestores) {
  const torch::Tensor a = torch::randn({8, 8}), b = torch::randn({8, 8});
  EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kFloat32);
  {
    AutocastScope bf16(true, torch::kCPU);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(torch::kCPU));
    EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kBFloat16);
    {
      AutocastScope off(false, torch::kCPU);  // fp32 changes nothing, also inside a bf16 scope
      EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kBFloat16);
    }
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(torch::kCPU));
  EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kFloat32);
  EXPECT_NO_THROW(check_precision("bf16", torch::kCPU));
  EXPECT_NO_THROW(check_precision("fp32", torch::kCPU));
}

TEST(Precision, Bf16ForwardIsFloat32OutputCloseToFp32) {
  const Config c = parse_config("[data]\nstore = \"x.h5\"\n[model]\nkind = \"gpt\"\nd_model = 32\nn_layers = 2\n"
                                "n_heads = 4\nseq_len = 16\ndropout = 0.0\n", "t.toml");
  auto model = make_model(c.model, 6, 3);
  model->eval();
  const torch::Tensor x = torch::randn({64, 16, 6}, at::detail::createCPUGenerator(5));
  StepInputs fp32, bf16;
  bf16.bf16 = true;
  torch::NoGradGuard no_grad;
  const ModelOutput a = forward_at_precision(*model, x, fp32), b = forward_at_precision(*model, x, bf16);
  EXPECT_EQ(b.pred_return.scalar_type(), torch::kFloat32);
  EXPECT_EQ(b.dir_logit.scalar_type(), torch::kFloat32);
  const double diff = (a.pred_return - b.pred_return).abs().max().item<double>();
  const double scale = a.pred_return.abs().max().item<double>();
  EXPECT_GT(diff, 0.0) << "bf16 autocast had no effect";
  EXPECT_LT(diff, 0.05 * scale + 1e-3) << "bf16 outputs far from fp32's";
}

}  // namespace
}  // namespace tickstream
