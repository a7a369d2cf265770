// Batches of sample windows on a device, and the one path that makes them: training (train/) and
// prediction (predict/) both turn (chunk, windows, normalization) into a Batch here.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
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
  // Appends windows w[0, n) (store row, end bar) of `chunk`, whose tile must hold them with
  // seq_len - 1 bars of history. At most capacity - size() windows.
  virtual void add(const Chunk& chunk, const Window* w, int64_t n) = 0;
  virtual int64_t size() const = 0;  // windows added since begin()
  // The batch of the windows added, its tensors on device(); begin() again for the next.
  virtual Batch finish() = 0;
  virtual const torch::Device& device() const = 0;
};

// The CPU implementation: the window gather kernel's serial reference (data/normalizer.hpp) into
// a host buffer (pinned when `device` is a GPU), then one non-blocking copy to `device`. A CUDA
// implementation gathers on the device from chunks staged there (the GPU data path).
std::unique_ptr<BatchAssembler> make_cpu_batch_assembler(const Normalizer& norm, int64_t seq_len,
                                                         int64_t features, torch::Device device);

}  // namespace tickstream
