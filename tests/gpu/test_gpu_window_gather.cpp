// GPU window gather + normalize against its CPU reference, over several tiles in one launch, and
// its bounds check: an out-of-range window is reported, never read (skips without a CUDA device).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "runtime/device_info.hpp"
#include "kernels/window_gather.hpp"

namespace tickstream {
namespace {

// A device copy of a host vector, freed with the object.
template <typename T>
class DeviceCopy {
 public:
  explicit DeviceCopy(const std::vector<T>& host) : n_(host.size()) {
    EXPECT_EQ(cudaMalloc(&p_, n_ * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceCopy() { cudaFree(p_); }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
  T* get() const { return p_; }
  std::vector<T> to_host() const {
    std::vector<T> out(n_);
    EXPECT_EQ(cudaMemcpy(out.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return out;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

struct Case {
  int64_t features = 19, seq = 64, batch = 129;
  std::vector<std::vector<float>> tiles;
  std::vector<GatherTile> shapes;  // host pointers
  std::vector<int32_t> tile, rows, ends;
  std::vector<float> mean, inv_std;
};

// Three tiles of different shapes, windows drawn from all of them.
Case make_case() {
  Case c;
  std::mt19937 rng(7);
  std::normal_distribution<float> norm(0.f, 3.f);
  for (auto [tickers, bars] : {std::pair<int64_t, int64_t>{7, 300}, {3, 64}, {11, 150}}) {
    c.tiles.emplace_back(static_cast<size_t>(tickers * bars * c.features));
    for (auto& x : c.tiles.back()) x = norm(rng);
    c.shapes.push_back(GatherTile{c.tiles.back().data(), tickers, bars});
  }
  for (int64_t f = 0; f < c.features; ++f) c.mean.push_back(0.1f * f), c.inv_std.push_back(1.f / (1.f + f));
  for (int64_t b = 0; b < c.batch; ++b) {
    const auto k = static_cast<int32_t>(rng() % 3);
    const GatherTile& t = c.shapes[static_cast<size_t>(k)];
    c.tile.push_back(k);
    c.rows.push_back(static_cast<int32_t>(rng() % t.tickers));
    c.ends.push_back(static_cast<int32_t>(c.seq - 1 + rng() % (t.bars - c.seq + 1)));
  }
  return c;
}

// Runs window_gather_cuda on `c`; returns the output and the error flag.
std::pair<std::vector<float>, int32_t> run_on_device(const Case& c) {
  std::vector<std::unique_ptr<DeviceCopy<float>>> values;
  std::vector<GatherTile> shapes = c.shapes;
  for (size_t k = 0; k < c.tiles.size(); ++k) {
    values.push_back(std::make_unique<DeviceCopy<float>>(c.tiles[k]));
    shapes[k].values = values.back()->get();
  }
  const DeviceCopy<GatherTile> tiles(shapes);
  const DeviceCopy<int32_t> tile(c.tile), rows(c.rows), ends(c.ends), error(std::vector<int32_t>{0});
  const DeviceCopy<float> mean(c.mean), inv_std(c.inv_std);
  const DeviceCopy<float> out(std::vector<float>(static_cast<size_t>(c.batch * c.seq * c.features), -1.f));
  WindowGatherArgs a;
  a.tiles = tiles.get(), a.tiles_count = static_cast<int64_t>(shapes.size()), a.features = c.features;
  a.tile = tile.get(), a.rows = rows.get(), a.ends = ends.get(), a.batch = c.batch, a.seq_len = c.seq;
  a.mean = mean.get(), a.inv_std = inv_std.get(), a.out = out.get(), a.clip = 2.5f, a.error = error.get();
  window_gather_cuda(a, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  return {out.to_host(), error.to_host()[0]};
}

std::vector<float> reference(const Case& c) {
  std::vector<float> out(static_cast<size_t>(c.batch * c.seq * c.features));
  WindowGatherArgs a;
  a.tiles = c.shapes.data(), a.tiles_count = static_cast<int64_t>(c.shapes.size()), a.features = c.features;
  a.tile = c.tile.data(), a.rows = c.rows.data(), a.ends = c.ends.data(), a.batch = c.batch, a.seq_len = c.seq;
  a.mean = c.mean.data(), a.inv_std = c.inv_std.data(), a.out = out.data(), a.clip = 2.5f;
  window_gather_reference(a);
  return out;
}

TEST(GpuWindowGather, MatchesCpuReferenceAcrossTilesInOneLaunch) {
  const DeviceInfo info = query_device_info();
  if (info.cuda_devices == 0) GTEST_SKIP() << "no CUDA device: " << info.reason;
  const Case c = make_case();
  const std::vector<float> expect = reference(c);
  const auto [got, error] = run_on_device(c);
  EXPECT_EQ(error, 0);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], expect[i], 1e-6f) << "element " << i;
}

TEST(GpuWindowGather, ReportsAnOutOfRangeWindowWithoutReadingIt) {
  const DeviceInfo info = query_device_info();
  if (info.cuda_devices == 0) GTEST_SKIP() << "no CUDA device: " << info.reason;
  Case c = make_case();
  const std::vector<float> expect = reference(c);
  c.rows[40] = 1 << 30;  // far past tile's rows: a read would fault
  c.tile[77] = 3;        // no such tile
  const auto [got, error] = run_on_device(c);
  EXPECT_TRUE(error == 41 || error == 78) << error;  // 1 + the first window the kernel saw
  const auto per = static_cast<size_t>(c.seq * c.features);
  for (size_t i = 0; i < got.size(); ++i) {
    const size_t b = i / per;
    if (b == 40 || b == 77)
      ASSERT_EQ(got[i], 0.f) << "element " << i;
    else
      ASSERT_NEAR(got[i], expect[i], 1e-6f) << "element " << i;
  }
}

}  // namespace
}  // namespace tickstream
