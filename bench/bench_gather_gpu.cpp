// window_gather_cuda timed on the device (CUDA builds with a GPU), checked against its reference.
#include "bench/bench_gather_gpu.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <cmath>

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "data/loader_stats.hpp"
#include "kernels/window_gather.hpp"
#include "runtime/device_info.hpp"

#ifdef TICKSTREAM_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace tickstream {

#ifdef TICKSTREAM_WITH_CUDA
namespace {

// Device memory freed with the object.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) { TS_CHECK_CUDA(cudaMalloc(&p_, std::max<size_t>(bytes, 1))); }
  DeviceBuffer(const void* host, size_t bytes) : DeviceBuffer(bytes) {
    TS_CHECK_CUDA(cudaMemcpy(p_, host, bytes, cudaMemcpyHostToDevice));
  }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_ = nullptr;
};

std::string device_name() {
  cudaDeviceProp p{};
  return cudaGetDeviceProperties(&p, 0) == cudaSuccess ? std::string(p.name) : std::string("cuda device 0");
}

template <typename T>
DeviceBuffer upload(const std::vector<T>& v) { return DeviceBuffer(v.data(), v.size() * sizeof(T)); }

// Batch k's output copied back and compared with the reference, element by element.
void check_batch(const WindowGatherArgs& device, const WindowGatherArgs& host, int64_t k) {
  const auto n = static_cast<size_t>(device.batch * device.seq_len * device.features);
  std::vector<float> got(n), want(n);
  TS_CHECK_CUDA(cudaMemcpy(got.data(), device.out, n * sizeof(float), cudaMemcpyDeviceToHost));
  WindowGatherArgs h = host;
  h.rows += k * host.batch, h.ends += k * host.batch, h.out = want.data();
  window_gather_reference(h);
  for (size_t i = 0; i < n; ++i)
    TS_CHECK(std::fabs(got[i] - want[i]) <= 1e-6f, "bench loader: GPU batch {} element {} is {}, the reference {}",
             k, i, got[i], want[i]);
}

}  // namespace

nlohmann::json gpu_assembly_figures(const Chunk& c, const std::vector<int32_t>& rows, const std::vector<int32_t>& ends,
                                    const std::vector<float>& mean, const std::vector<float>& inv_std, int64_t seq_len,
                                    int64_t batch, int64_t batches) {
  const DeviceInfo info = query_device_info();
  if (info.cuda_devices == 0) return {{"assembly_us_gpu", nullptr}, {"assembly_gpu_note", "no GPU: " + info.reason}};
  const GatherTile host_tile{c.values.data(), c.tile.rows, c.bars};
  WindowGatherArgs h;
  h.tiles = &host_tile, h.tiles_count = 1, h.features = c.features, h.rows = rows.data(), h.ends = ends.data();
  h.batch = batch, h.seq_len = seq_len, h.mean = mean.data(), h.inv_std = inv_std.data(), h.clip = 10.0f;
  const DeviceBuffer values(c.values.data(), c.values.size() * sizeof(float));
  const GatherTile device_tile{values.as<float>(), c.tile.rows, c.bars};
  const DeviceBuffer tile(&device_tile, sizeof(GatherTile)), d_rows = upload(rows), d_ends = upload(ends);
  const DeviceBuffer d_mean = upload(mean), d_inv = upload(inv_std), error(sizeof(int32_t));
  const DeviceBuffer out(static_cast<size_t>(batch * seq_len * c.features) * sizeof(float));
  TS_CHECK_CUDA(cudaMemset(error.as<int32_t>(), 0, sizeof(int32_t)));
  WindowGatherArgs d = h;
  d.tiles = tile.as<GatherTile>(), d.mean = d_mean.as<float>(), d.inv_std = d_inv.as<float>();
  d.out = out.as<float>(), d.error = error.as<int32_t>();
  auto launch = [&](int64_t k) {
    d.rows = d_rows.as<int32_t>() + k * batch, d.ends = d_ends.as<int32_t>() + k * batch;
    window_gather_cuda(d, nullptr);
  };
  launch(0);
  TS_CHECK_CUDA(cudaDeviceSynchronize());
  check_batch(d, h, 0);
  std::vector<double> wall_us, event_us;
  for (int64_t k = 0; k < batches; ++k) {  // one batch at a time, host clock: launch to completion
    const auto t0 = std::chrono::steady_clock::now();
    launch(k);
    TS_CHECK_CUDA(cudaStreamSynchronize(nullptr));
    wall_us.push_back(1e6 * seconds_since(t0));
  }
  check_batch(d, h, batches - 1);
  cudaEvent_t e0, e1;
  TS_CHECK_CUDA(cudaEventCreate(&e0));
  TS_CHECK_CUDA(cudaEventCreate(&e1));
  for (int run = 0; run < 5; ++run) {  // back to back: device time per launch
    TS_CHECK_CUDA(cudaEventRecord(e0, nullptr));
    for (int64_t k = 0; k < 100; ++k) launch(k % batches);
    TS_CHECK_CUDA(cudaEventRecord(e1, nullptr));
    TS_CHECK_CUDA(cudaEventSynchronize(e1));
    float ms = 0;
    TS_CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    event_us.push_back(1e3 * ms / 100);
  }
  cudaEventDestroy(e0), cudaEventDestroy(e1);
  int32_t bad = 0;
  TS_CHECK_CUDA(cudaMemcpy(&bad, error.as<int32_t>(), sizeof(bad), cudaMemcpyDeviceToHost));
  TS_CHECK(bad == 0, "bench loader: window_gather_cuda reported window {} out of range", bad - 1);
  return {{"assembly_us_gpu", quantile(event_us, 0.5)}, {"assembly_us_gpu_runs", event_us},
          {"assembly_us_gpu_wall_median", quantile(wall_us, 0.5)}, {"assembly_us_gpu_wall_p99", quantile(wall_us, 0.99)},
          {"assembly_gpu_device", device_name()},
          {"assembly_gpu_note", "window_gather_cuda (normalize + clip 10), the same windows as the CPU figures, tile "
                                "resident on the device; us_gpu = device time per launch (CUDA events over 100 "
                                "back-to-back launches, median of 5); wall = host launch to completion of one batch; "
                                "batches 0 and last checked against the reference to 1e-6"}};
}
#else
nlohmann::json gpu_assembly_figures(const Chunk&, const std::vector<int32_t>&, const std::vector<int32_t>&,
                                    const std::vector<float>&, const std::vector<float>&, int64_t, int64_t, int64_t) {
  return {{"assembly_us_gpu", nullptr}, {"assembly_gpu_note", "not measured: a build without CUDA"}};
}
#endif

}  // namespace tickstream
