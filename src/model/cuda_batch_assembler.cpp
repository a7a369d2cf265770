// The CUDA batch assembler: chunks staged on the device through a copy stream ordered with the
// compute stream by events, then one window_gather_cuda launch per batch.
#include "model/cuda_batch_assembler.hpp"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <map>

#include "core/error.hpp"
#include "kernels/window_gather.hpp"
#include "runtime/device_info.hpp"

namespace tickstream {
namespace {

// A CUDA event without timing. Only recorded events are waited for.
class Event {
 public:
  Event() { TS_CHECK_CUDA(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming)); }
  ~Event() { cudaEventDestroy(e_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(cudaStream_t s) {
    TS_CHECK_CUDA(cudaEventRecord(e_, s));
    recorded_ = true;
  }
  void make_wait(cudaStream_t s) const {  // work queued on `s` from now on runs after this event
    if (recorded_) TS_CHECK_CUDA(cudaStreamWaitEvent(s, e_, 0));
  }
  bool done() const {
    if (!recorded_) return true;
    const cudaError_t rc = cudaEventQuery(e_);
    if (rc == cudaErrorNotReady) return false;
    TS_CHECK_CUDA(rc);
    return true;
  }
  void sync() const {
    if (recorded_) TS_CHECK_CUDA(cudaEventSynchronize(e_));
  }
  void sync_quietly() const noexcept {  // destructors: never throws
    if (recorded_) cudaEventSynchronize(e_);
  }

 private:
  cudaEvent_t e_ = nullptr;
  bool recorded_ = false;
};

// A tile is the same data whichever host buffer it was read into: the key is the tile and its
// first bar read (the store is read-only while a job runs).
using TileKey = std::array<int64_t, 5>;
TileKey key_of(const Chunk& c) { return {c.tile.row_begin, c.tile.rows, c.tile.bar_begin, c.tile.bars, c.bar0}; }

// One chunk's feature values on the device.
struct DeviceTile {
  bool filled = false;
  TileKey key{};
  int64_t tickers = 0, bars = 0;
  torch::Tensor values;               // float32 on the device, at least the chunk's values
  Event copied;                       // on the copy stream, after the chunk's copy
  Event used;                         // on the compute stream, after the last gather that read it
  std::shared_ptr<const Chunk> host;  // the chunk copied from, held until `copied` is done
  uint64_t last_batch = 0;            // the batch that read it last (LRU of streamed slots)
};

// Copies `chunk`'s feature values into `t` on `copy`: after the last gather that read `t`, or,
// for fresh device memory, after the compute work queued so far (the caching allocator may hand
// out a block that queued compute work still reads). The compute stream waits for the copy.
void stage(DeviceTile& t, const std::shared_ptr<const Chunk>& chunk, cudaStream_t compute, cudaStream_t copy,
           const torch::Device& device) {
  const auto n = static_cast<int64_t>(chunk->values.size());
  t.copied.sync();  // a previous copy into t: done long ago in practice
  t.host.reset();
  if (!t.values.defined() || t.values.numel() < n) {
    t.values = torch::empty({n}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    Event fresh;
    fresh.record(compute);
    fresh.make_wait(copy);
  } else {
    t.used.make_wait(copy);
  }
  TS_CHECK_CUDA(cudaMemcpyAsync(t.values.data_ptr<float>(), chunk->values.data(), static_cast<size_t>(n) * sizeof(float),
                                cudaMemcpyHostToDevice, copy));
  t.copied.record(copy);
  t.copied.make_wait(compute);
  t.host = chunk;
  t.filled = true, t.key = key_of(*chunk), t.tickers = chunk->tile.rows, t.bars = chunk->bars;
}

// Byte offsets of one batch's index block: the tile table, then per window its tile, row and
// end (int32), then the labels (float32), then the windows' bars when any window is not
// contiguous (int32 [n, seq_len]). One host-to-device copy carries all of it.
struct IndexLayout {
  size_t tile_of, rows, ends, y, up, bars, bytes;
  IndexLayout(size_t tiles, size_t n, size_t bar_count) {
    tile_of = tiles * sizeof(GatherTile);
    rows = tile_of + n * 4, ends = rows + n * 4, y = ends + n * 4, up = y + n * 4, bars = up + n * 4;
    bytes = bars + bar_count * 4;
  }
};

class CudaBatchAssembler final : public BatchAssembler {
 public:
  CudaBatchAssembler(const Normalizer& norm, int64_t seq_len, int64_t features, torch::Device device)
      : seq_len_(seq_len), features_(features), device_(device),
        copy_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index())) {
    TS_CHECK(static_cast<int64_t>(norm.mean.size()) == features, "normalizer of {} features for {}",
             norm.mean.size(), features);
    const c10::cuda::CUDAGuard guard(device_.index());
    mean_ = torch::tensor(norm.mean, torch::kFloat32).to(device_);
    inv_std_ = torch::tensor(norm.inv_std, torch::kFloat32).to(device_);
    TS_CHECK_CUDA(cudaHostAlloc(reinterpret_cast<void**>(&error_), sizeof(int32_t), cudaHostAllocMapped));
    *error_ = 0;
    TS_CHECK_CUDA(cudaHostGetDevicePointer(reinterpret_cast<void**>(&error_device_), error_, 0));
  }

  ~CudaBatchAssembler() override {
    last_gather_.sync_quietly();  // the kernel may still write error_
    for (const auto& t : slots_) t->copied.sync_quietly();
    for (const auto& [key, t] : resident_) t->copied.sync_quietly();
    cudaFreeHost(error_);
  }

  void begin(int64_t capacity, bool with_labels) override {
    check_kernel_errors();
    release_host(/*wait=*/false);
    capacity_ = capacity, with_labels_ = with_labels, ++batch_;
    table_.clear(), batch_tiles_.clear(), tile_of_.clear(), rel_rows_.clear(), rel_ends_.clear();
    rows_.clear(), dates_.clear(), y_.clear(), up_.clear(), bars_.clear();
    gapped_ = false;
  }

  void add(const std::shared_ptr<const Chunk>& chunk, const Window* w, int64_t n) override {
    TS_CHECK(size() + n <= capacity_, "batch of {} windows: {} more do not fit after {}", capacity_, n, size());
    const Chunk& c = *chunk;
    TS_CHECK(c.features == features_, "a chunk of {} features for a batch of {}", c.features, features_);
    TS_CHECK(!with_labels_ || c.labels >= 2, "a batch with labels from a chunk without them (tile at row {})",
             c.tile.row_begin);
    const int32_t k = table_index(chunk);
    const size_t first = rel_rows_.size();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = w[i].row - c.tile.row_begin, end = w[i].end - c.bar0;
      TS_CHECK(row >= 0 && row < c.tile.rows && end >= 0 && end < c.bars,
               "window (row {}, end {}) outside tile rows [{}, +{}) x bars [{}, +{})", w[i].row, w[i].end,
               c.tile.row_begin, c.tile.rows, c.bar0, c.bars);
      tile_of_.push_back(k), rel_rows_.push_back(static_cast<int32_t>(row)), rel_ends_.push_back(static_cast<int32_t>(end));
      rows_.push_back(w[i].row), dates_.push_back(w[i].end);
      if (with_labels_) add_label(c, row, end);
    }
    // Every window's bars (host-checked against the chunk); sent only when one is not contiguous.
    gapped_ = chunk_window_bars(c, rel_rows_.data() + first, rel_ends_.data() + first, n, seq_len_, bars_) || gapped_;
  }

  int64_t size() const override { return static_cast<int64_t>(rows_.size()); }

  Batch finish() override {
    const c10::cuda::CUDAGuard guard(device_.index());
    const cudaStream_t compute = compute_stream();
    const auto n = static_cast<size_t>(size());
    const IndexLayout at(table_.size(), n, gapped_ ? bars_.size() : 0);
    const torch::Tensor index = upload_index(at, n);
    Batch b;
    b.x = torch::empty({size(), seq_len_, features_}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
    uint8_t* base = index.data_ptr<uint8_t>();
    WindowGatherArgs a;
    a.tiles = reinterpret_cast<const GatherTile*>(base), a.tiles_count = static_cast<int64_t>(table_.size());
    a.features = features_, a.tile = reinterpret_cast<const int32_t*>(base + at.tile_of);
    a.rows = reinterpret_cast<const int32_t*>(base + at.rows), a.ends = reinterpret_cast<const int32_t*>(base + at.ends);
    a.bars = gapped_ ? reinterpret_cast<const int32_t*>(base + at.bars) : nullptr;
    a.batch = size(), a.seq_len = seq_len_, a.mean = mean_.data_ptr<float>(), a.inv_std = inv_std_.data_ptr<float>();
    a.out = b.x.data_ptr<float>(), a.clip = Normalizer::kClip, a.error = error_device_;
    window_gather_cuda(a, compute);
    for (DeviceTile* t : batch_tiles_) t->used.record(compute);
    last_gather_.record(compute);
    if (with_labels_) b.y_return = floats(index, at.y, n), b.y_up = floats(index, at.up, n);
    b.rows = std::move(rows_), b.dates = std::move(dates_);
    return b;
  }

  const torch::Device& device() const override { return device_; }

  void release_host(bool wait) override {
    for (const auto& t : slots_)
      if (t->host && (wait || t->copied.done())) t->copied.sync(), t->host.reset();
  }

  bool keep_resident(const std::vector<std::shared_ptr<const Chunk>>& chunks) override;

  std::string describe() const override {
    const std::string where =
        resident_bytes_ > 0 ? fmt::format("{:.0f} MB of tiles resident on the device", resident_bytes_ / 1e6)
                            : fmt::format("chunks copied on a copy stream into {} device slots", slots_.size());
    return fmt::format("gather on {} (one window_gather_cuda launch per batch), {}", device_.str(), where);
  }

 private:
  // libtorch's current stream on the device: where the gathers run and the batch is consumed.
  cudaStream_t compute_stream() const { return c10::cuda::getCurrentCUDAStream(device_.index()).stream(); }
  int32_t table_index(const std::shared_ptr<const Chunk>& chunk);
  DeviceTile& device_tile(const std::shared_ptr<const Chunk>& chunk);
  torch::Tensor upload_index(const IndexLayout& at, size_t n) const;

  void add_label(const Chunk& c, int64_t row, int64_t end) {
    const size_t cell = (static_cast<size_t>(row) * static_cast<size_t>(c.bars) + static_cast<size_t>(end)) *
                        static_cast<size_t>(c.labels);
    y_.push_back(c.label_values[cell]);
    up_.push_back(c.label_values[cell + 1] > 0.5f ? 1.0f : 0.0f);
  }
  static torch::Tensor floats(const torch::Tensor& bytes, size_t offset, size_t n) {
    return bytes.narrow(0, static_cast<int64_t>(offset), static_cast<int64_t>(n * 4)).view(torch::kFloat32);
  }
  void check_kernel_errors() const {
    const int32_t e = *static_cast<volatile int32_t*>(error_);
    TS_CHECK(e == 0, "window_gather_cuda: window {} of an earlier batch lay outside its tile", e - 1);
  }

  int64_t seq_len_, features_;
  torch::Device device_;
  c10::cuda::CUDAStream copy_;
  torch::Tensor mean_, inv_std_;
  int32_t* error_ = nullptr;         // mapped pinned host memory the kernel reports into
  int32_t* error_device_ = nullptr;  // its device address
  Event last_gather_;
  std::map<TileKey, std::unique_ptr<DeviceTile>> resident_;
  std::vector<std::unique_ptr<DeviceTile>> slots_;  // streamed chunks, least recently used reused
  double resident_bytes_ = 0;
  // The batch being assembled.
  uint64_t batch_ = 0;
  int64_t capacity_ = 0;
  bool with_labels_ = false;
  std::vector<GatherTile> table_;
  std::vector<DeviceTile*> batch_tiles_;
  std::vector<int32_t> tile_of_, rel_rows_, rel_ends_, rows_, dates_, bars_;
  bool gapped_ = false;  // some window of the batch is not contiguous: bars_ goes to the kernel
  std::vector<float> y_, up_;
};

int32_t CudaBatchAssembler::table_index(const std::shared_ptr<const Chunk>& chunk) {
  DeviceTile& t = device_tile(chunk);
  for (size_t k = 0; k < batch_tiles_.size(); ++k)
    if (batch_tiles_[k] == &t) return static_cast<int32_t>(k);
  batch_tiles_.push_back(&t);
  table_.push_back(GatherTile{t.values.data_ptr<float>(), t.tickers, t.bars});
  return static_cast<int32_t>(table_.size() - 1);
}

// The chunk's tile on the device: resident, already in a slot, or copied into the least recently
// used slot that this batch does not read (a new slot when it reads them all).
DeviceTile& CudaBatchAssembler::device_tile(const std::shared_ptr<const Chunk>& chunk) {
  const TileKey key = key_of(*chunk);
  if (const auto it = resident_.find(key); it != resident_.end()) return *it->second;
  DeviceTile* pick = nullptr;
  for (const auto& s : slots_) {
    if (s->filled && s->key == key) {
      s->last_batch = batch_;
      return *s;
    }
    if (s->last_batch != batch_ && (!pick || s->last_batch < pick->last_batch)) pick = s.get();
  }
  if (!pick) pick = slots_.emplace_back(std::make_unique<DeviceTile>()).get();
  const c10::cuda::CUDAGuard guard(device_.index());
  stage(*pick, chunk, compute_stream(), copy_.stream(), device_);
  pick->last_batch = batch_;
  return *pick;
}

// The batch's index block in pinned memory, copied to the device on the compute stream (libtorch's
// pinned allocator keeps the host block until that copy is done).
torch::Tensor CudaBatchAssembler::upload_index(const IndexLayout& at, size_t n) const {
  torch::Tensor host = torch::empty({static_cast<int64_t>(at.bytes)},
                                    torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
  uint8_t* p = host.data_ptr<uint8_t>();
  std::memcpy(p, table_.data(), table_.size() * sizeof(GatherTile));
  std::memcpy(p + at.tile_of, tile_of_.data(), n * 4);
  std::memcpy(p + at.rows, rel_rows_.data(), n * 4);
  std::memcpy(p + at.ends, rel_ends_.data(), n * 4);
  if (with_labels_) std::memcpy(p + at.y, y_.data(), n * 4), std::memcpy(p + at.up, up_.data(), n * 4);
  if (at.bytes > at.bars) std::memcpy(p + at.bars, bars_.data(), at.bytes - at.bars);
  return host.to(device_, /*non_blocking=*/true);
}

bool CudaBatchAssembler::keep_resident(const std::vector<std::shared_ptr<const Chunk>>& chunks) {
  double bytes = 0;
  for (const auto& c : chunks) bytes += static_cast<double>(c->values.size()) * sizeof(float);
  const double free = static_cast<double>(device_free_bytes(device_.index()));
  if (bytes > 0.5 * free) {
    spdlog::info("loader: the shard's {:.0f} MB of features exceed half the free memory of {} ({:.0f} MB): "
                 "chunks are copied to the device as they are used", bytes / 1e6, device_.str(), free / 1e6);
    return false;
  }
  const c10::cuda::CUDAGuard guard(device_.index());
  const cudaStream_t compute = compute_stream();
  for (const auto& c : chunks) {
    auto& t = resident_[key_of(*c)];
    if (!t) t = std::make_unique<DeviceTile>(), stage(*t, c, compute, copy_.stream(), device_);
  }
  TS_CHECK_CUDA(cudaStreamSynchronize(copy_.stream()));  // once per run, at load
  for (auto& [key, t] : resident_) t->host.reset();
  resident_bytes_ = bytes;
  return true;
}

}  // namespace

std::unique_ptr<BatchAssembler> make_cuda_batch_assembler(const Normalizer& norm, int64_t seq_len,
                                                          int64_t features, torch::Device device) {
  return std::make_unique<CudaBatchAssembler>(norm, seq_len, features, device);
}

}  // namespace tickstream
