// libtorch builds and links with the project's flags (ABI, C++17) and computes a known result.
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

TEST(TorchToolchain, LinearLayerGradientIsClosedForm) {
  torch::manual_seed(0);
  // y = sum(W x) with x = ones: dy/dW = ones.
  torch::nn::Linear layer(torch::nn::LinearOptions(4, 3).bias(false));
  auto y = layer->forward(torch::ones({1, 4})).sum();
  y.backward();
  EXPECT_TRUE(torch::allclose(layer->weight.grad(), torch::ones({3, 4})));
  EXPECT_EQ(torch::matmul(torch::eye(3), torch::arange(3, torch::kFloat)).sum().item<float>(), 3.0f);
}

}  // namespace
