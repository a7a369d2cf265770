// The NCCL backend on one GPU (skips without a CUDA device): a one-rank communicator set up over a
// host bootstrap communicator sums, averages, broadcasts and gathers device buffers, ordered after
// the stream that produced them; the barrier completes.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "comm/communicator.hpp"
#include "runtime/device_info.hpp"

namespace tickstream {
namespace {

struct DeviceVector {
  float* data = nullptr;
  size_t n = 0;
  explicit DeviceVector(const std::vector<float>& host) : n(host.size()) {
    EXPECT_EQ(cudaMalloc(&data, n * sizeof(float)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(data, host.data(), n * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceVector() { cudaFree(data); }
  std::vector<float> host() const {
    std::vector<float> out(n);
    EXPECT_EQ(cudaMemcpy(out.data(), data, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return out;
  }
  comm::Buffer buffer(cudaStream_t stream) const {
    return comm::Buffer{data, static_cast<int64_t>(n), comm::DType::f32, comm::Memory::cuda, 0, stream};
  }
};

TEST(GpuNccl, OneRankCollectivesOnTheDevice) {
  const DeviceInfo info = query_device_info();
  if (info.cuda_devices == 0) GTEST_SKIP() << "no CUDA device: " << info.reason;
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  auto bootstrap = comm::make_self_communicator();
  auto nccl = comm::make_nccl_communicator(*bootstrap, 0, comm::CommOptions{});
  EXPECT_STREQ(nccl->backend(), "nccl");
  cudaStream_t producer = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&producer, cudaStreamNonBlocking), cudaSuccess);
  DeviceVector v({1.f, 2.f, 3.f});
  // Work queued on the producer stream before the collective: the collective must see its result.
  ASSERT_EQ(cudaMemsetAsync(v.data, 0, sizeof(float), producer), cudaSuccess);
  nccl->allreduce(v.buffer(producer), comm::ReduceOp::sum);
  EXPECT_EQ(v.host(), (std::vector<float>{0.f, 2.f, 3.f}));
  nccl->allreduce(v.buffer(nullptr), comm::ReduceOp::avg);
  EXPECT_EQ(v.host(), (std::vector<float>{0.f, 2.f, 3.f}));
  nccl->broadcast(v.buffer(nullptr), 0);
  DeviceVector all({9.f, 9.f, 9.f});
  nccl->allgather(v.buffer(nullptr), all.buffer(nullptr));
  EXPECT_EQ(all.host(), (std::vector<float>{0.f, 2.f, 3.f}));
  nccl->barrier();
  cudaStreamDestroy(producer);
}

}  // namespace
}  // namespace tickstream
