// Batches of sample windows on a device, and the one path that makes them: training (train/) and
// prediction (predict/) both turn (chunk, windows, normalization) into a Batch here.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/chunk_loader.hpp"
#include "data/normalizer.hpp"
#include "store/store_format.hpp"

namespace tickstream {

struct Batch {
  torch::Tensor x;             // [B, seq_len, F] float32, normalized with the store's /stats
  torch::Tensor y_return;      // [B] float32 forward log return (label 0); undefined without labels
  torch::Tensor y_up;          // [B] float32 1 when the forward return is > 0 (label 1)
  std::vector<int32_t> rows;   // [B] store row (ticker) of each window
  std::vector<int32_t> dates;  // [B] end bar index of each window (cross-sectional metrics)
  int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

// Assembles one batch at a time: begin(), add() windows from any number of chunks, finish().
class BatchAssembler {
 public:
  virtual ~BatchAssembler() = default;
  // Starts a batch of at most `capacity` windows, with the labels when `with_labels`.
  virtual void begin(int64_t capacity, bool with_labels) = 0;
  // Appends windows w[0, n) (store row, end bar) of `chunk`, whose tile must hold their bars (the
  // last seq_len with features: the window rule's span - 1 bars of history). At most capacity - size() windows. The assembler may hold
  // `chunk` until its copy to the device is done (release_host()).
  virtual void add(const std::shared_ptr<const Chunk>& chunk, const Window* w, int64_t n) = 0;
  virtual int64_t size() const = 0;  // windows added since begin()
  // The batch of the windows added, its tensors on device(); begin() again for the next.
  virtual Batch finish() = 0;
  virtual const torch::Device& device() const = 0;
  // Lets go of the chunks whose copies to the device are done; with `wait`, of every chunk it
  // holds, waiting for their copies (never for compute). Call before asking a ChunkLoader for
  // another chunk (with `wait` at prefetch 0, so that the loader's buffer bound holds).
  virtual void release_host(bool wait) { (void)wait; }
  // Keeps `chunks` on the device for the assembler's lifetime (the device-resident shard), copied
  // once, when their feature values fit half of the device's free memory; false when they do not
  // (or on the CPU): they are then copied when used, like streamed chunks.
  virtual bool keep_resident(const std::vector<std::shared_ptr<const Chunk>>& chunks) {
    (void)chunks;
    return false;
  }
  virtual std::string describe() const = 0;  // where gather runs and what stays on the device
};

// The CPU implementation: the window gather kernel's serial reference (data/normalizer.hpp) into
// a host buffer (pinned when `device` is a GPU), then one non-blocking copy to `device`.
std::unique_ptr<BatchAssembler> make_cpu_batch_assembler(const Normalizer& norm, int64_t seq_len,
                                                         int64_t features, torch::Device device);

// The CUDA implementation (model/cuda_batch_assembler.cpp, CUDA builds): chunks are copied to the
// device on a copy stream (from pinned buffers: see model/pinned_memory.hpp), ordered with the
// compute stream by events, and each batch is gathered and normalized there by one launch of
// window_gather_cuda. The same batches as the CPU assembler (tests/gpu/test_gpu_batch_assembler).
// make_batch_assembler: the CUDA one on a CUDA device (CUDA builds), else the CPU one.
std::unique_ptr<BatchAssembler> make_batch_assembler(const Normalizer& norm, int64_t seq_len, int64_t features,
                                                     torch::Device device);

}  // namespace tickstream
