// GPU window gather + normalize against its CPU reference (skips without a CUDA device).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/device_info.hpp"
#include "kernels/window_gather.hpp"

namespace tickstream {
namespace {

template <typename T>
T* to_device(const std::vector<T>& host) {
  T* dev = nullptr;
  EXPECT_EQ(cudaMalloc(&dev, host.size() * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(dev, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            cudaSuccess);
  return dev;
}

TEST(GpuWindowGather, MatchesCpuReference) {
  const DeviceInfo info = query_device_info();
  if (info.cuda_devices == 0) GTEST_SKIP() << "no CUDA device: " << info.reason;
  const int64_t tickers = 7, bars = 300, features = 19, seq = 64, batch = 129;
  std::mt19937 rng(7);
  std::normal_distribution<float> norm(0.f, 3.f);
  std::vector<float> chunk(tickers * bars * features), mean(features), inv_std(features);
  for (auto& x : chunk) x = norm(rng);
  for (int64_t f = 0; f < features; ++f) mean[f] = 0.1f * f, inv_std[f] = 1.f / (1.f + f);
  std::vector<int32_t> rows(batch), ends(batch);
  for (int64_t b = 0; b < batch; ++b) {
    rows[b] = static_cast<int32_t>(rng() % tickers);
    ends[b] = static_cast<int32_t>(seq - 1 + rng() % (bars - seq + 1));
  }
  std::vector<float> expect(batch * seq * features), got(expect.size());
  WindowGatherArgs a{chunk.data(), tickers, bars, features, rows.data(), ends.data(), batch, seq,
                     mean.data(), inv_std.data(), expect.data()};
  window_gather_reference(a);
  WindowGatherArgs d = a;
  d.chunk = to_device(chunk), d.rows = to_device(rows), d.ends = to_device(ends);
  d.mean = to_device(mean), d.inv_std = to_device(inv_std);
  ASSERT_EQ(cudaMalloc(&d.out, got.size() * sizeof(float)), cudaSuccess);
  window_gather_cuda(d, nullptr);
  ASSERT_EQ(cudaMemcpy(got.data(), d.out, got.size() * sizeof(float), cudaMemcpyDeviceToHost),
            cudaSuccess);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expect[i]) << "element " << i;
  for (const void* p : {static_cast<const void*>(d.chunk), static_cast<const void*>(d.rows),
                        static_cast<const void*>(d.ends), static_cast<const void*>(d.mean),
                        static_cast<const void*>(d.inv_std), static_cast<const void*>(d.out)})
    cudaFree(const_cast<void*>(p));
}

}  // namespace
}  // namespace tickstream
