// In-memory batch source: shard plan over tickers, window index, per-epoch permutation, assembly.
#include "train/batch_source.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "comm/mpi_typed.hpp"
#include "core/error.hpp"
#include "core/partition.hpp"
#include "data/feature_rows.hpp"
#include "data/window_index.hpp"
#include "store/synth_rng.hpp"

namespace tickstream {
namespace {

constexpr float kClip = 10.0f;          // normalized features are clipped to [-10, 10]
constexpr int64_t kEvalBatch = 1024;    // windows per validation batch
constexpr uint64_t kShufflePurpose = 0x5a4d;

struct Normalizer {
  std::vector<float> mean, inv_std;
  explicit Normalizer(const FeatureStoreInfo& info) {
    for (size_t f = 0; f < info.mean.size(); ++f) {
      mean.push_back(static_cast<float>(info.mean[f]));
      const double s = info.std[f];
      inv_std.push_back(s > 0 && std::isfinite(s) ? static_cast<float>(1.0 / s) : 1.0f);
    }
  }
};

// Fisher-Yates over [0, n) keyed by (seed, epoch, rank): the same on every run and platform.
std::vector<int64_t> permutation(int64_t n, uint64_t seed, int64_t epoch, int rank) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  SynthRng rng(seed, (static_cast<uint64_t>(epoch) << 24) | static_cast<uint64_t>(rank), kShufflePurpose);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.next() % static_cast<uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

class InMemorySource final : public BatchSource {
 public:
  InMemorySource(FeatureStoreInfo info, FeatureRows rows, std::vector<Window> train,
                 std::vector<Window> valid, const Config& c, int rank)
      : info_(std::move(info)), rows_(std::move(rows)), norm_(info_), train_(std::move(train)),
        valid_(std::move(valid)), seq_len_(c.model.seq_len), batch_(c.train.batch_size),
        seed_(static_cast<uint64_t>(c.train.seed)), rank_(rank) {}

  void agree(MPI_Comm comm) {
    const auto n = static_cast<int64_t>(train_.size());
    const int64_t mine = (n + batch_ - 1) / batch_;
    steps_ = mpi::allreduce<int64_t>(comm, mine, MPI_MAX);
    std::vector<double> sums{0.0, 0.0, 0.0};
    for (const Window& w : train_) {
      const double y = label(w, 0);
      sums[0] += 1.0, sums[1] += y, sums[2] += y * y;
    }
    mpi::allreduce_inplace(comm, sums, MPI_SUM);
    const double mean = sums[1] / std::max(1.0, sums[0]);
    const double var = sums[2] / std::max(1.0, sums[0]) - mean * mean;
    label_scale_ = var > 0 ? std::sqrt(var) : 1.0;
  }

  int64_t features() const override { return rows_.features; }
  int64_t steps_per_epoch() const override { return steps_; }
  int64_t train_samples() const override { return static_cast<int64_t>(train_.size()); }
  double label_scale() const override { return label_scale_; }
  int64_t validation_batches() const override {
    return (static_cast<int64_t>(valid_.size()) + kEvalBatch - 1) / kEvalBatch;
  }

  Batch train_batch(int64_t epoch, int64_t step) override {
    if (epoch != perm_epoch_) {
      perm_ = permutation(static_cast<int64_t>(train_.size()), seed_, epoch, rank_);
      perm_epoch_ = epoch;
    }
    // Steps past this rank's share re-draw from its own shard (the permutation wraps around).
    std::vector<Window> picked(static_cast<size_t>(batch_));
    const auto n = static_cast<int64_t>(perm_.size());
    for (int64_t j = 0; j < batch_; ++j)
      picked[static_cast<size_t>(j)] = train_[static_cast<size_t>(perm_[static_cast<size_t>((step * batch_ + j) % n)])];
    return assemble(picked);
  }

  Batch validation_batch(int64_t index) override {
    const auto begin = static_cast<size_t>(index * kEvalBatch);
    const size_t end = std::min(valid_.size(), begin + static_cast<size_t>(kEvalBatch));
    return assemble(std::vector<Window>(valid_.begin() + static_cast<std::ptrdiff_t>(begin),
                                        valid_.begin() + static_cast<std::ptrdiff_t>(end)));
  }

  Normalization normalization() const override {
    return Normalization{info_.feature_names, info_.mean, info_.std, info_.features_hash};
  }

  std::string describe() const override {
    return fmt::format("in-memory: tickers [{}, {}), {} training windows, {} validation windows, "
                       "{} steps per epoch", rows_.row_begin, rows_.row_begin + rows_.rows,
                       train_.size(), valid_.size(), steps_);
  }

 private:
  float label(const Window& w, int64_t which) const {
    const auto local = static_cast<int64_t>(w.row) - rows_.row_begin;
    return rows_.label_values[static_cast<size_t>((local * rows_.bars + w.end) * rows_.labels + which)];
  }

  Batch assemble(const std::vector<Window>& windows) const {
    const auto b = static_cast<int64_t>(windows.size());
    const int64_t f = rows_.features;
    Batch out;
    out.x = torch::empty({b, seq_len_, f}, torch::kFloat32);
    out.y_return = torch::empty({b}, torch::kFloat32);
    out.y_up = torch::empty({b}, torch::kFloat32);
    float* x = out.x.data_ptr<float>();
    for (int64_t i = 0; i < b; ++i) {
      const Window& w = windows[static_cast<size_t>(i)];
      const auto local = static_cast<int64_t>(w.row) - rows_.row_begin;
      const float* src = rows_.values.data() + ((local * rows_.bars + w.end - seq_len_ + 1) * f);
      float* dst = x + i * seq_len_ * f;
      for (int64_t k = 0; k < seq_len_ * f; ++k) {
        const auto fi = static_cast<size_t>(k % f);
        dst[k] = std::clamp((src[k] - norm_.mean[fi]) * norm_.inv_std[fi], -kClip, kClip);
      }
      out.y_return[i] = label(w, 0);
      out.y_up[i] = label(w, 1) > 0.5f ? 1.0f : 0.0f;
      out.dates.push_back(w.end);
    }
    return out;
  }

  FeatureStoreInfo info_;
  FeatureRows rows_;
  Normalizer norm_;
  std::vector<Window> train_, valid_;
  int64_t seq_len_, batch_;
  uint64_t seed_;
  int rank_;
  int64_t steps_ = 0;
  double label_scale_ = 1.0;
  std::vector<int64_t> perm_;
  int64_t perm_epoch_ = -1;
};

WindowRule rule_for(const Config& c, const FeatureStoreInfo& info, int64_t start, int64_t end) {
  return WindowRule{c.model.seq_len, info.horizon, period_bars(info.time, start, end)};
}

std::vector<Window> windows_of(const FeatureRows& rows, const WindowRule& rule) {
  std::vector<Window> out;
  for (int64_t r = 0; r < rows.rows; ++r) {
    const auto o = static_cast<size_t>(r * rows.bars);
    append_windows(rows.valid.data() + o, rows.label_valid.data() + o, rows.bars,
                   static_cast<int32_t>(rows.row_begin + r), rule, out);
  }
  return out;
}

}  // namespace

std::unique_ptr<BatchSource> make_in_memory_source(MPI_Comm comm, const Config& c) {
  const StoreReader store(c.data.store);
  FeatureStoreInfo info = read_feature_info(store);
  TS_REQUIRE_INPUT(info.features() > 0 && info.bars() >= c.model.seq_len,
                   "{}: {} bars, fewer than [model] seq_len = {}", c.data.store, info.bars(), c.model.seq_len);
  const WindowRule train_rule = rule_for(c, info, c.data.train_start, c.data.train_end);
  const WindowRule valid_rule = rule_for(c, info, c.data.valid_start, c.data.valid_end);
  const ValidityMasks masks = read_validity(store);
  const std::vector<int64_t> counts =
      count_windows(masks.features, masks.labels, masks.tickers, masks.bars, train_rule);
  const int rank = mpi::rank(comm);
  const auto [begin, end] = owned_range(balanced_owners(counts, mpi::size(comm)), rank);
  FeatureRows rows = read_feature_rows(store, begin, end - begin);
  std::vector<Window> train = windows_of(rows, train_rule), valid = windows_of(rows, valid_rule);
  const int64_t fewest = mpi::allreduce<int64_t>(comm, static_cast<int64_t>(train.size()), MPI_MIN);
  TS_REQUIRE_INPUT(fewest > 0, "{}: a rank has no training windows in [{}, {}] (seq_len {}): use fewer "
                   "ranks or a longer training period", c.data.store, train_rule.period.first,
                   train_rule.period.last, c.model.seq_len);
  auto source = std::make_unique<InMemorySource>(std::move(info), std::move(rows), std::move(train),
                                                 std::move(valid), c, rank);
  source->agree(comm);
  return source;
}

}  // namespace tickstream
