// The CUDA BatchAssembler against the CPU one (same windows, same batches to 1e-6), streamed and
// device-resident, and its copy stream: a chunk's copy completes while compute still runs
// (skips without a CUDA device).
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <random>
#include <vector>

#include "model/batch_assembler.hpp"
#include "model/pinned_memory.hpp"
#include "runtime/device_info.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

constexpr int64_t kRows = 5, kBars = 90, kF = 7, kSeq = 16;

// A chunk of tile (row_begin, bar0) with random features and labels, in pinned memory; with
// `missing` > 0 that share of its bars has no features (a skip store's halts and holidays).
std::shared_ptr<const Chunk> make_chunk(int64_t row_begin, int64_t bar0, std::mt19937& rng, double missing = 0) {
  auto c = std::make_shared<Chunk>();
  c->values = HostVector<float>(HostAllocator<float>(pinned_host_memory()));
  c->tile = Tile{row_begin, kRows, bar0 + kSeq - 1, kBars - kSeq + 1};
  c->bar0 = bar0, c->bars = kBars, c->features = kF, c->labels = 2;
  std::normal_distribution<float> x(0.f, 4.f);
  for (int64_t i = 0; i < kRows * kBars; ++i) {
    for (int64_t f = 0; f < kF; ++f) c->values.push_back(x(rng));
    const bool ok = std::uniform_real_distribution<double>(0, 1)(rng) >= missing;
    c->valid.push_back(ok ? 1 : 0), c->label_valid.push_back(ok ? 1 : 0);
    c->label_values.push_back(x(rng)), c->label_values.push_back(x(rng) > 0 ? 1.f : 0.f);
  }
  return c;
}

// Windows whose last kSeq bars with features all lie in the chunk (every window of a full chunk).
std::vector<Window> random_windows(const Chunk& c, int64_t n, std::mt19937& rng) {
  std::vector<Window> w;
  std::vector<int32_t> bars(kSeq);
  while (static_cast<int64_t>(w.size()) < n) {
    const int64_t row = static_cast<int64_t>(rng() % kRows), end = kSeq - 1 + static_cast<int64_t>(rng() % (kBars - kSeq + 1));
    if (!c.valid[static_cast<size_t>(row * kBars + end)] || !window_bars(c.valid.data() + row * kBars, end, kSeq, 0, bars.data()))
      continue;
    w.push_back(Window{static_cast<int32_t>(c.tile.row_begin + row), static_cast<int32_t>(c.bar0 + end)});
  }
  return w;
}

void expect_same(const Batch& gpu, const Batch& cpu) {
  ASSERT_EQ(gpu.x.sizes(), cpu.x.sizes());
  EXPECT_EQ(gpu.rows, cpu.rows);
  EXPECT_EQ(gpu.dates, cpu.dates);
  EXPECT_LE((gpu.x.cpu() - cpu.x).abs().max().item<float>(), 1e-6f);
  EXPECT_TRUE(torch::equal(gpu.y_return.cpu(), cpu.y_return));
  EXPECT_TRUE(torch::equal(gpu.y_up.cpu(), cpu.y_up));
}

// Batches of windows from `chunks` (several chunks per batch) through both assemblers.
void compare(BatchAssembler& gpu, BatchAssembler& cpu, const std::vector<std::shared_ptr<const Chunk>>& chunks,
             std::mt19937& rng) {
  for (int batch = 0; batch < 12; ++batch) {
    gpu.begin(64, true), cpu.begin(64, true);
    for (int part = 0; part < 4; ++part) {
      const auto& c = chunks[rng() % chunks.size()];
      const std::vector<Window> w = random_windows(*c, 16, rng);
      gpu.add(c, w.data(), 16), cpu.add(c, w.data(), 16);
    }
    expect_same(gpu.finish(), cpu.finish());
    gpu.release_host(/*wait=*/batch % 2 == 0);
  }
}

class GpuBatchAssembler : public ::testing::Test {
 protected:
  void SetUp() override {
    const DeviceInfo info = query_device_info();
    if (info.cuda_devices == 0 || !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: " << info.reason;
    for (int k = 0; k < 6; ++k) chunks_.push_back(make_chunk(kRows * k, 10 * k, rng_));
  }
  std::mt19937 rng_{2026};
  Normalizer norm_{std::vector<double>(kF, 0.3), std::vector<double>(kF, 1.7)};
  std::vector<std::shared_ptr<const Chunk>> chunks_;
  torch::Device cuda_{torch::kCUDA, 0};
};

TEST_F(GpuBatchAssembler, StreamedChunksGiveTheCpuAssemblersBatches) {
  auto gpu = make_batch_assembler(norm_, kSeq, kF, cuda_);
  auto cpu = make_cpu_batch_assembler(norm_, kSeq, kF, torch::kCPU);
  compare(*gpu, *cpu, chunks_, rng_);  // 6 chunks, 4 per batch: slots are reused and grown
  EXPECT_NE(gpu->describe().find("device slots"), std::string::npos) << gpu->describe();
}

TEST_F(GpuBatchAssembler, DeviceResidentChunksGiveTheCpuAssemblersBatches) {
  auto gpu = make_batch_assembler(norm_, kSeq, kF, cuda_);
  auto cpu = make_cpu_batch_assembler(norm_, kSeq, kF, torch::kCPU);
  ASSERT_TRUE(gpu->keep_resident(chunks_));
  compare(*gpu, *cpu, chunks_, rng_);
  EXPECT_NE(gpu->describe().find("resident"), std::string::npos) << gpu->describe();
}

// Windows around missing bars: the CUDA kernel gathers the bars the host listed, as the CPU does.
TEST_F(GpuBatchAssembler, GappedWindowsGiveTheCpuAssemblersBatches) {
  std::vector<std::shared_ptr<const Chunk>> gapped;
  for (int k = 0; k < 4; ++k) gapped.push_back(make_chunk(kRows * k, 10 * k, rng_, 0.08));
  auto gpu = make_batch_assembler(norm_, kSeq, kF, cuda_);
  auto cpu = make_cpu_batch_assembler(norm_, kSeq, kF, torch::kCPU);
  compare(*gpu, *cpu, gapped, rng_);
}

TEST_F(GpuBatchAssembler, RejectsAWindowOutsideItsTile) {
  auto gpu = make_batch_assembler(norm_, kSeq, kF, cuda_);
  gpu->begin(4, true);
  const Window past{static_cast<int32_t>(kRows), static_cast<int32_t>(kBars - 1)};  // row kRows of tile 0
  EXPECT_ANY_THROW(gpu->add(chunks_[0], &past, 1));
  const Window early{0, static_cast<int32_t>(kSeq - 2)};  // one bar of history short
  EXPECT_ANY_THROW(gpu->add(chunks_[0], &early, 1));
}

// The copy stream: with the compute stream busy for a long while, a new chunk's copy (into a
// slot that no queued work reads) completes, and release_host(wait) returns, before compute ends.
TEST_F(GpuBatchAssembler, ChunkCopiesOverlapCompute) {
  auto gpu = make_batch_assembler(norm_, kSeq, kF, cuda_);
  for (int k = 0; k < 3; ++k) {  // three slots in use, then idle
    gpu->begin(8, true);
    const std::vector<Window> w = random_windows(*chunks_[static_cast<size_t>(k)], 8, rng_);
    gpu->add(chunks_[static_cast<size_t>(k)], w.data(), 8);
    gpu->finish();
  }
  torch::cuda::synchronize();
  torch::Tensor m = torch::randn({4096, 4096}, torch::TensorOptions().device(cuda_));
  for (int i = 0; i < 40; ++i) m = torch::tanh(torch::mm(m, m));  // ~tens of ms queued on compute
  gpu->begin(8, true);
  const std::vector<Window> w = random_windows(*chunks_[3], 8, rng_);
  gpu->add(chunks_[3], w.data(), 8);  // copies chunk 3 into the least recently used slot
  gpu->release_host(/*wait=*/true);   // waits for that copy only
  const cudaError_t busy = cudaStreamQuery(c10::cuda::getCurrentCUDAStream().stream());
  EXPECT_EQ(busy, cudaErrorNotReady) << "compute finished before the copy: no overlap observed";
  const Batch b = gpu->finish();
  auto cpu = make_cpu_batch_assembler(norm_, kSeq, kF, torch::kCPU);
  cpu->begin(8, true);
  cpu->add(chunks_[3], w.data(), 8);
  expect_same(b, cpu->finish());
}

}  // namespace
}  // namespace tickstream
