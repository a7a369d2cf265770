// Streaming batch source: epoch sequence over the shard plan, chunk loader or resident tiles,
// window gather + normalize into batches, loader statistics.
#include "train/streaming_source.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/partition.hpp"
#include "data/chunk_loader.hpp"
#include "data/loader_stats.hpp"
#include "data/normalizer.hpp"
#include "data/shard_plan.hpp"
#include "data/tile_sources.hpp"
#include "model/batch_assembler.hpp"
#include "model/pinned_memory.hpp"
#include "store/store_reader.hpp"

namespace tickstream {
namespace {

constexpr int64_t kEvalBatch = 1024;  // windows per validation batch

// The configured tile shape, narrowed along the sharded axis so that every rank can own a block
// (a store with fewer tickers than chunk_tickers x ranks would otherwise leave ranks empty).
ShardSpec fitted_spec(const Config& c, const FeatureStoreInfo& info, const BarRange& train, int ranks) {
  ShardSpec spec{c.data.shard, c.loader.chunk_tickers, c.loader.chunk_bars, c.train.batch_size};
  if (spec.mode == "tickers")
    spec.chunk_tickers = std::max<int64_t>(1, std::min(spec.chunk_tickers, info.tickers_count() / ranks));
  else if (spec.mode == "time")
    spec.chunk_bars = std::max<int64_t>(1, std::min(spec.chunk_bars, train.size() / ranks));
  if (spec.chunk_tickers != c.loader.chunk_tickers || spec.chunk_bars != c.loader.chunk_bars)
    spdlog::debug("loader: tiles of {} tickers x {} bars so that {} ranks each own some", spec.chunk_tickers,
                  spec.chunk_bars, ranks);
  return spec;
}

// The store's metadata with `moments` in place of /stats when given (sizes checked).
FeatureStoreInfo with_moments(FeatureStoreInfo info, const NormalizationStats* moments) {
  if (moments == nullptr) return info;
  TS_CHECK(moments->mean.size() == info.mean.size() && moments->std.size() == info.std.size(),
           "normalization of {} features for a store of {}", moments->mean.size(), info.mean.size());
  info.mean = moments->mean, info.std = moments->std;
  return info;
}

class StreamingSource final : public BatchSource {
 public:
  // The store is opened once for the metadata, masks and label sums (then closed: the loader
  // thread reads through its own ChunkReader).
  StreamingSource(comm::Communicator& comm, const Config& c, torch::Device device, const NormalizationStats* moments)
      : StreamingSource(comm, c, StoreReader(c.data.store), device, moments) {}

  int64_t features() const override { return info_.features(); }
  int64_t steps_per_epoch() const override { return plan_.steps_per_epoch; }
  int64_t train_samples() const override { return plan_.windows_of(rank_); }
  double label_scale() const override { return label_scale_; }
  int64_t validation_batches() const override {
    return (static_cast<int64_t>(valid_.size()) + kEvalBatch - 1) / kEvalBatch;
  }
  Normalization normalization() const override {
    return Normalization{info_.feature_names, info_.mean, info_.std, info_.features_hash};
  }
  std::string describe() const override {
    return fmt::format("streaming ({} shard, {} tiles, {}): {} training windows, {} validation windows, "
                       "{} steps per epoch; {}", spec_.mode, plan_.tiles_of(rank_).size(),
                       resident_ ? fmt::format("resident {:.0f} MB", resident_->bytes() / 1e6)
                                 : fmt::format("prefetch {}, cache {} MB", prefetch_, cache_mb_),
                       train_samples(), valid_.size(), plan_.steps_per_epoch, assembler_->describe());
  }
  Batch train_batch(int64_t epoch, int64_t step) override;
  Batch validation_batch(int64_t index) override;
  std::optional<LoaderStats> loader_stats() const override {
    return loader_ ? merged(retired_, loader_->stats()) : retired_;
  }

 private:
  void begin_epoch(int64_t epoch);
  const std::shared_ptr<const Chunk>& chunk_at(int64_t q);
  const std::vector<Window>& windows_at(int64_t q);
  void restart_loader(int64_t q);
  int64_t loader_prefetch() const { return resident_ ? 0 : prefetch_; }  // resident tiles need no read-ahead
  void retire_loader();
  StreamingSource(comm::Communicator& comm, const Config& c, const StoreReader& store, torch::Device device,
                  const NormalizationStats* moments);
  void load_validation();

  FeatureStoreInfo info_;
  ValidityMasks masks_;
  WindowRule rule_, valid_rule_;
  ShardSpec spec_;
  ShardPlan plan_;
  Normalizer norm_;
  std::unique_ptr<BatchAssembler> assembler_;
  int rank_ = 0;
  uint64_t seed_ = 0;
  int64_t seq_len_ = 0, prefetch_ = 0, cache_mb_ = 0;
  double label_scale_ = 1.0;
  std::unique_ptr<ChunkReader> reader_;
  std::unique_ptr<ResidentTiles> resident_;
  std::unique_ptr<ChunkCache> cache_;
  ResidentTiles valid_tiles_;
  std::vector<std::pair<Tile, Window>> valid_;
  // Epoch state: tile order, window offsets (prefix_[k] = first position of the k-th tile), the
  // loader and the chunk and windows in use. q = lap * tiles + k numbers the tiles read so far.
  int64_t epoch_ = -1, n_ = 0, laps_ = 1;
  std::vector<int64_t> order_, prefix_;
  ChunkBufferPool spare_;  // warm chunk buffers from one loader to the next (declared before it)
  std::unique_ptr<FaultPointSource> fault_;
  std::unique_ptr<ChunkLoader> loader_;
  LoaderStats retired_;
  int64_t loader_q_ = -1, chunk_q_ = -1, windows_k_ = -1;
  std::shared_ptr<const Chunk> chunk_;
  std::vector<Window> windows_;
};

StreamingSource::StreamingSource(comm::Communicator& comm, const Config& c, const StoreReader& store,
                                 torch::Device device, const NormalizationStats* moments)
    : info_(with_moments(read_feature_info(store), moments)), norm_(info_.mean, info_.std),
      assembler_(make_batch_assembler(norm_, c.model.seq_len, info_.features(), device)), rank_(comm.rank()),
      seed_(static_cast<uint64_t>(c.train.seed)), seq_len_(c.model.seq_len), prefetch_(c.loader.prefetch),
      cache_mb_(c.loader.cache_mb) {
  TS_REQUIRE_INPUT(info_.bars() >= c.model.seq_len, "{}: {} bars, fewer than [model] seq_len = {}", c.data.store,
                   info_.bars(), c.model.seq_len);
  masks_ = read_validity(store);
  rule_ = WindowRule{c.model.seq_len, info_.horizon, period_bars(info_.time, c.data.train_start, c.data.train_end),
                     window_slack(info_)};
  valid_rule_ = WindowRule{c.model.seq_len, info_.horizon,
                           period_bars(info_.time, c.data.valid_start, c.data.valid_end), window_slack(info_)};
  spec_ = fitted_spec(c, info_, rule_.period, comm.size());
  plan_ = make_shard_plan(masks_, rule_, spec_, comm.size());
  std::vector<Tile> mine;
  for (int64_t t : plan_.tiles_of(rank_)) mine.push_back(plan_.tiles[static_cast<size_t>(t)]);
  std::vector<double> sums = label_sums(store, masks_, rule_, mine);
  comm::allreduce_inplace(comm, sums, comm::ReduceOp::sum);
  const double mean = sums[1] / std::max(1.0, sums[0]), var = sums[2] / std::max(1.0, sums[0]) - mean * mean;
  label_scale_ = var > 0 ? std::sqrt(var) : 1.0;
  reader_ = std::make_unique<ChunkReader>(c.data.store, rule_.span());
  if (device.is_cuda()) reader_->set_host_memory(pinned_host_memory());  // asynchronous copies to the device
  load_validation();
  double shard_bytes = 0;
  for (const Tile& t : mine)
    shard_bytes += static_cast<double>(t.rows * (t.bars + rule_.span() - 1)) * (4.0 * (features() + 2) + 2.0);
  const bool resident = c.loader.resident == "on" ||
                        (c.loader.resident == "auto" && shard_bytes <= static_cast<double>(c.loader.memory_mb) * 1e6);
  if (resident) {
    resident_ = std::make_unique<ResidentTiles>();
    resident_->load(*reader_, mine);
    assembler_->keep_resident(resident_->chunks());  // on the device too when they fit (its describe() says)
  } else if (cache_mb_ > 0) {
    cache_ = std::make_unique<ChunkCache>(static_cast<size_t>(cache_mb_) * 1000000);
  }
}

void StreamingSource::load_validation() {
  if (valid_rule_.period.empty()) return;
  const auto counts = count_windows(masks_.features, masks_.labels, masks_.tickers, masks_.bars, valid_rule_);
  const auto [begin, end] = owned_range(balanced_owners(counts, plan_.ranks), rank_);
  std::vector<Tile> tiles;
  for (int64_t r = begin; r < end; r += spec_.chunk_tickers)
    tiles.push_back(Tile{r, std::min(spec_.chunk_tickers, end - r), valid_rule_.period.first, valid_rule_.period.size()});
  valid_tiles_.load(*reader_, tiles);
  for (const Tile& t : tiles)
    for (const Window& w : tile_windows(masks_, valid_rule_, t)) valid_.emplace_back(t, w);
}

void StreamingSource::begin_epoch(int64_t epoch) {
  retire_loader();
  retired_ = LoaderStats{};
  order_ = plan_.epoch_order(rank_, seed_, epoch);
  prefix_.assign(1, 0);
  for (int64_t t : order_) prefix_.push_back(prefix_.back() + plan_.tile_windows[static_cast<size_t>(t)]);
  n_ = prefix_.back();
  laps_ = std::max<int64_t>(1, (plan_.steps_per_epoch * plan_.batch + n_ - 1) / n_);
  epoch_ = epoch;
  windows_k_ = -1;
}

void StreamingSource::retire_loader() {
  chunk_.reset();
  chunk_q_ = -1;
  if (loader_) retired_ = merged(retired_, loader_->stats());
  loader_.reset();
  loader_q_ = -1;
}

// A loader over the tiles q, q + 1, ... to the end of the epoch's laps.
void StreamingSource::restart_loader(int64_t q) {
  retire_loader();
  const auto tiles = static_cast<int64_t>(order_.size());
  std::vector<Tile> list;
  for (int64_t i = q; i < laps_ * tiles; ++i) list.push_back(plan_.tiles[static_cast<size_t>(order_[static_cast<size_t>(i % tiles)])]);
  fault_ = std::make_unique<FaultPointSource>(resident_ ? static_cast<TileSource&>(*resident_) : *reader_, rank_);
  loader_ = std::make_unique<ChunkLoader>(*fault_, std::move(list), loader_prefetch(), cache_.get(), &spare_);
  loader_q_ = q;
}

const std::shared_ptr<const Chunk>& StreamingSource::chunk_at(int64_t q) {
  if (q == chunk_q_) return chunk_;
  if (!loader_ || q != loader_q_) restart_loader(q);
  chunk_.reset();  // released before next(): the loader's memory bound counts it
  assembler_->release_host(/*wait=*/loader_prefetch() == 0);
  chunk_ = loader_->next();
  TS_CHECK(chunk_ != nullptr, "loader ended before tile {} of epoch {}", q, epoch_);
  chunk_q_ = loader_q_++;
  return chunk_;
}

const std::vector<Window>& StreamingSource::windows_at(int64_t q) {
  const auto k = q % static_cast<int64_t>(order_.size());
  if (k != windows_k_) {
    const int64_t tile = order_[static_cast<size_t>(k)];
    windows_ = tile_windows(masks_, rule_, plan_.tiles[static_cast<size_t>(tile)]);
    shuffle_windows(windows_, seed_, epoch_, rank_, tile);
    windows_k_ = k;
  }
  return windows_;
}

Batch StreamingSource::train_batch(int64_t epoch, int64_t step) {
  if (epoch != epoch_) begin_epoch(epoch);
  const int64_t B = plan_.batch;
  assembler_->begin(B, /*with_labels=*/true);
  int64_t pos = step * B;
  for (int64_t j = 0; j < B;) {
    const int64_t p = pos % n_;
    const auto k = static_cast<int64_t>(std::upper_bound(prefix_.begin(), prefix_.end(), p) - prefix_.begin()) - 1;
    const int64_t q = (pos / n_) * static_cast<int64_t>(order_.size()) + k, offset = p - prefix_[static_cast<size_t>(k)];
    const std::shared_ptr<const Chunk>& c = chunk_at(q);
    const std::vector<Window>& w = windows_at(q);
    const int64_t take = std::min(B - j, static_cast<int64_t>(w.size()) - offset);
    assembler_->add(c, w.data() + offset, take);
    j += take, pos += take;
  }
  return assembler_->finish();
}

Batch StreamingSource::validation_batch(int64_t index) {
  const auto begin = static_cast<size_t>(index * kEvalBatch);
  const size_t end = std::min(valid_.size(), begin + static_cast<size_t>(kEvalBatch));
  assembler_->begin(static_cast<int64_t>(end - begin), /*with_labels=*/true);
  std::vector<Window> run;
  for (size_t i = begin; i < end;) {
    const Tile& t = valid_[i].first;
    run.clear();
    size_t j = i;
    for (; j < end && valid_[j].first.row_begin == t.row_begin; ++j) run.push_back(valid_[j].second);
    assembler_->add(valid_tiles_.read(t), run.data(), static_cast<int64_t>(run.size()));
    i = j;
  }
  return assembler_->finish();
}

}  // namespace

std::unique_ptr<BatchSource> make_streaming_source(comm::Communicator& comm, const Config& config,
                                                   torch::Device device, const NormalizationStats* normalization) {
  return std::make_unique<StreamingSource>(comm, config, device, normalization);
}

}  // namespace tickstream
