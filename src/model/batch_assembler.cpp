// The CPU batch assembler: gather into a (pinned) host batch, then copy it to the device.
#include "model/batch_assembler.hpp"

#include "core/error.hpp"
#ifdef TICKSTREAM_WITH_CUDA
#include "model/cuda_batch_assembler.hpp"
#endif

namespace tickstream {
namespace {

class CpuBatchAssembler final : public BatchAssembler {
 public:
  CpuBatchAssembler(const Normalizer& norm, int64_t seq_len, int64_t features, torch::Device device)
      : norm_(norm), seq_len_(seq_len), features_(features), device_(device) {
    TS_CHECK(static_cast<int64_t>(norm.mean.size()) == features, "normalizer of {} features for {}",
             norm.mean.size(), features);
  }

  void begin(int64_t capacity, bool with_labels) override {
    const auto host = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(device_.is_cuda());
    x_ = torch::empty({capacity, seq_len_, features_}, host);
    with_labels_ = with_labels;
    if (with_labels) y_return_ = torch::empty({capacity}, host), y_up_ = torch::empty({capacity}, host);
    rows_.clear(), dates_.clear(), rel_rows_.clear(), rel_ends_.clear();
    capacity_ = capacity;
  }

  void add(const std::shared_ptr<const Chunk>& chunk, const Window* w, int64_t n) override {
    const Chunk& c = *chunk;
    TS_CHECK(size() + n <= capacity_, "batch of {} windows: {} more do not fit after {}", capacity_, n, size());
    rel_rows_.resize(static_cast<size_t>(n)), rel_ends_.resize(static_cast<size_t>(n));
    const int64_t at = size();
    for (int64_t i = 0; i < n; ++i) {
      rel_rows_[static_cast<size_t>(i)] = static_cast<int32_t>(w[i].row - c.tile.row_begin);
      rel_ends_[static_cast<size_t>(i)] = static_cast<int32_t>(w[i].end - c.bar0);
      rows_.push_back(w[i].row), dates_.push_back(w[i].end);
    }
    if (with_labels_) add_labels(c, n, at);
    bars_.clear();
    const bool gapped = chunk_window_bars(c, rel_rows_.data(), rel_ends_.data(), n, seq_len_, bars_);
    gather_windows(c, rel_rows_.data(), rel_ends_.data(), n, norm_, seq_len_,
                   x_.data_ptr<float>() + at * seq_len_ * features_, gapped ? bars_.data() : nullptr);
  }

  int64_t size() const override { return static_cast<int64_t>(rows_.size()); }

  Batch finish() override {
    const int64_t n = size();
    Batch b;
    b.x = to_device(x_.narrow(0, 0, n));
    if (with_labels_) b.y_return = to_device(y_return_.narrow(0, 0, n)), b.y_up = to_device(y_up_.narrow(0, 0, n));
    b.rows = std::move(rows_), b.dates = std::move(dates_);
    x_ = y_return_ = y_up_ = torch::Tensor();  // the next batch gets fresh buffers (a copy may be in flight)
    return b;
  }

  const torch::Device& device() const override { return device_; }
  std::string describe() const override {
    return device_.is_cpu() ? "gather on the CPU" : "gather on the CPU into pinned memory, one copy per batch";
  }

 private:
  void add_labels(const Chunk& c, int64_t n, int64_t at) {
    TS_CHECK(c.labels >= 2, "a batch with labels from a chunk without them (tile at row {})", c.tile.row_begin);
    float* y = y_return_.data_ptr<float>();
    float* up = y_up_.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const size_t cell = static_cast<size_t>(rel_rows_[static_cast<size_t>(i)]) * static_cast<size_t>(c.bars) +
                          static_cast<size_t>(rel_ends_[static_cast<size_t>(i)]);
      y[at + i] = c.label_values[cell * static_cast<size_t>(c.labels)];
      up[at + i] = c.label_values[cell * static_cast<size_t>(c.labels) + 1] > 0.5f ? 1.0f : 0.0f;
    }
  }
  torch::Tensor to_device(const torch::Tensor& host) const {
    return device_.is_cpu() ? host : host.to(device_, /*non_blocking=*/true);
  }

  const Normalizer& norm_;
  int64_t seq_len_, features_;
  torch::Device device_;
  int64_t capacity_ = 0;
  bool with_labels_ = false;
  torch::Tensor x_, y_return_, y_up_;
  std::vector<int32_t> rows_, dates_, rel_rows_, rel_ends_, bars_;
};

}  // namespace

std::unique_ptr<BatchAssembler> make_cpu_batch_assembler(const Normalizer& norm, int64_t seq_len,
                                                         int64_t features, torch::Device device) {
  return std::make_unique<CpuBatchAssembler>(norm, seq_len, features, device);
}

std::unique_ptr<BatchAssembler> make_batch_assembler(const Normalizer& norm, int64_t seq_len, int64_t features,
                                                     torch::Device device) {
#ifdef TICKSTREAM_WITH_CUDA
  if (device.is_cuda()) return make_cuda_batch_assembler(norm, seq_len, features, device);
#endif
  return make_cpu_batch_assembler(norm, seq_len, features, device);
}

}  // namespace tickstream
