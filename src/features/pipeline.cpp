// Features pipeline: collective /raw read, content-keyed cache, kernels, train-period stats, atomic write.
#include "features/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "comm/collectives.hpp"
#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "core/hash.hpp"
#include "core/host_threads.hpp"
#include "core/partition.hpp"
#include "core/time.hpp"
#include "features/feature_set.hpp"
#include "features/feature_writer.hpp"
#include "features/kernels.hpp"
#include "features/timeframes.hpp"
#include "comm/agreement.hpp"
#include "runtime/fault.hpp"
#include "store/atomic_output.hpp"
#include "store/store_reader.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

// Hash of one ticker's raw row (every field's bytes, in dataset order).
uint64_t row_hash(const RawBlock& b, int64_t r) {
  const size_t o = b.index(r, 0), n = static_cast<size_t>(b.bars);
  uint64_t h = kFnvOffset;
  for (const auto* v : {&b.open, &b.high, &b.low, &b.close, &b.volume, &b.adj_close})
    if (!v->empty()) h = fnv1a_words(v->data() + o, n, h);
  return fnv1a({reinterpret_cast<const char*>(b.valid.data() + o), n}, h);
}

// Row hashes gathered in row order, so the fingerprint does not depend on the rank count.
std::string raw_fingerprint(comm::Communicator& comm, const RawBlock& b, const StoreReader& r) {
  std::vector<uint64_t> mine;
  for (int64_t row = 0; row < b.rows; ++row) mine.push_back(row_hash(b, row));
  const std::vector<uint64_t> all = comm::allgatherv(comm, mine);
  uint64_t h = fnv1a(fmt::format("{}x{}:{}", r.tickers().size(), r.time().size(), r.has_adj_close()));
  h = fnv1a({reinterpret_cast<const char*>(all.data()), all.size() * sizeof(uint64_t)}, h);
  return hex64(h);
}

nlohmann::json feature_settings(const Config& c) {
  return {{"definitions_version", kDefinitionsVersion}, {"horizon", c.features.horizon},
          {"gaps", c.features.gaps}, {"max_missing_bars", c.features.max_missing_bars},
          {"timeframes", c.to_json()["features"].value("timeframes", nlohmann::json::array())},
          {"train_start", c.data.train_start}, {"train_end", c.data.train_end}};
}

std::string cache_key(const std::string& fingerprint, const Config& c) {
  return hex64(fnv1a(fingerprint + "|" + feature_settings(c).dump()));
}

std::string stored_key(const StoreReader& r) {
  if (!h5::exists(r.root(), store::path::kFeatureValues) || !h5::exists(r.root(), store::path::kStats)) return "";
  h5::Handle ds = h5::open_dataset(r.root(), store::path::kFeatureValues);
  return h5::has_attr(ds.id(), "cache_key") ? h5::get_attr_string(ds.id(), "cache_key") : "";
}

// Training-period statistics over valid feature rows (all bars when no period is configured),
// one partial per block of kFeatureChunkTickers rows merged in block order: the same bytes at any
// rank count (ranks own whole blocks).
RunningStats train_stats(comm::Communicator& comm, const Config& c, const FeatureBlock& f, const std::vector<int64_t>& time,
                         int64_t rows, int threads, int64_t& train_rows) {
  // A date-only train_end includes every bar of that day (intraday stores): period_bars.
  const BarRange period = period_bars(time, c.data.train_start, c.data.train_end);
  const int64_t first = period.first, last = period.last + 1, block = store::kFeatureChunkTickers;
  const auto bars = static_cast<int64_t>(time.size());
  std::vector<RunningStats> blocks(static_cast<size_t>((rows + block - 1) / block), RunningStats(f.width));
  const auto fill = [&](size_t k) {  // one block's rows, in row order
    for (int64_t r = static_cast<int64_t>(k) * block; r < std::min(rows, static_cast<int64_t>(k + 1) * block); ++r) {
      const size_t o = static_cast<size_t>(r * bars + first);
      blocks[k].add_rows(f.features.data() + o * static_cast<size_t>(f.width), last - first, f.feature_valid.data() + o);
    }
  };
  // Blocks are independent partials: host threads over them.
  parallel_ranges(static_cast<int64_t>(blocks.size()), threads, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) fill(static_cast<size_t>(k));
  });
  RunningStats all = merge_blocks(comm, blocks, f.width);
  train_rows = all.counts().empty() ? 0 : all.counts()[0];
  return all;
}

// Waits for the store's copy (started before the kernels), writes the groups into it and renames
// it over the store. Returns the seconds spent waiting for the copy.
double replace_store(comm::Communicator& comm, AtomicOutput& out, const FeatureGroupsInfo& info, const FeatureBlock& f,
                     int64_t begin, int64_t rows, const RunningStats& stats, int threads) {
  const double t0 = monotonic_seconds();
  out.finish_copy();
  const double wait_s = monotonic_seconds() - t0;
  std::exception_ptr failure;
  const RootStep on_root = [&](const std::function<void()>& step) {
    if (comm.rank() != 0 || failure) return;
    try {
      out.write(step);
    } catch (...) {
      failure = std::current_exception();
    }
  };
  maybe_inject_fault("features_write", comm.rank());  // mid-write: the others go on
  write_feature_groups(comm, out.temp_path(), info, f, begin, rows, stats, threads, on_root);
  agree_on_failure(comm, failure);
  out.commit();
  return wait_s;
}

}  // namespace

nlohmann::json FeaturesReport::to_json() const {
  return {{"cache_hit", cache_hit}, {"cache_key", cache_key}, {"tickers", tickers}, {"bars", bars},
          {"valid_rows", valid_rows}, {"train_rows", train_rows}, {"read_s", read_s}, {"compute_s", compute_s},
          {"write_s", write_s}, {"total_s", total_s}, {"phases", nlohmann::json(phases)}};
}

FeaturesReport run_features(comm::Communicator& comm, const Config& c, bool force, int threads) {
  const double t0 = monotonic_seconds();
  FeaturesReport rep;
  double mark = t0;
  const auto lap = [&rep, &mark](const char* phase) {
    const double now = monotonic_seconds();
    rep.phases.emplace_back(phase, now - mark), mark = now;
  };
  std::unique_ptr<StoreReader> reader;
  std::vector<TimeframeSpec> timeframes;
  run_agreed(comm, [&] {  // rank-local checks only: the collective open comes after agreement
    TS_REQUIRE_INPUT(h5::is_hdf5_file(c.data.store),
                     "{}: missing or not an HDF5 store ([data] store)", c.data.store);
    timeframes = resolve_timeframes(c.features.timeframes);
  });
  reader = std::make_unique<StoreReader>(c.data.store, &comm);
  rep.tickers = static_cast<int64_t>(reader->tickers().size());
  rep.bars = static_cast<int64_t>(reader->time().size());
  const auto owners = balanced_owners_grouped(std::vector<int64_t>(static_cast<size_t>(rep.tickers), 1),
                                              comm.size(), store::kFeatureChunkTickers);
  const auto [begin, end] = owned_range(owners, comm.rank());
  lap("open");
  const RawBlock raw = reader->read_raw(begin, end - begin);
  lap("read_raw");
  rep.cache_key = cache_key(raw_fingerprint(comm, raw, *reader), c);
  const bool hit = !force && stored_key(*reader) == rep.cache_key;
  const std::vector<int64_t> time = reader->time();
  reader.reset();
  lap("fingerprint");
  const double t1 = monotonic_seconds();
  if (hit) {
    rep.cache_hit = true;
    spdlog::info("features: cache hit (key {}): {} already holds these features; nothing written", rep.cache_key,
                 c.data.store);
  } else {
    AtomicOutput out(c.data.store, comm);
    out.start_copy_from(c.data.store);  // rank 0's copy runs beside the kernels
    const Gaps gaps = c.features.gaps == "skip" ? Gaps::skip : Gaps::strict;
    FeatureTimings ft;
    FeatureBlock base = compute_feature_block(raw, c.features.horizon, gaps, &ft, threads);
    for (const auto& [name, s] : {std::pair{"upload", ft.upload_s}, {"features_kernel", ft.features_s},
                                  {"labels_kernel", ft.labels_s}, {"download", ft.download_s}})
      rep.phases.emplace_back(name, s);
    mark = monotonic_seconds();
    const FeatureBlock f = add_timeframes(raw, time, std::move(base), timeframes, gaps);
    lap("timeframes");
    for (uint8_t v : f.feature_valid) rep.valid_rows += v;
    rep.valid_rows = comm::allreduce(comm, rep.valid_rows, comm::ReduceOp::sum);
    const RunningStats stats = train_stats(comm, c, f, time, end - begin, threads, rep.train_rows);
    lap("stats");
    const double t2 = monotonic_seconds();
    rep.compute_s = comm::allreduce(comm, t2 - t1, comm::ReduceOp::max);
    FeatureGroupsInfo info{rep.tickers, rep.bars, c.features.horizon, c.features.gaps, c.features.max_missing_bars,
                           feature_columns(timeframes),
                           store::kFeatureChunkTickers, store::kFeatureChunkBars, c.hash(), rep.cache_key,
                           c.data.train_start ? format_timestamp(c.data.train_start) : "",
                           c.data.train_end ? format_timestamp(c.data.train_end) : ""};
    const double copy_s = replace_store(comm, out, info, f, begin, end - begin, stats, threads);
    lap("write");
    rep.phases.back().second -= copy_s;
    rep.phases.insert(rep.phases.end() - 1, {"copy_store", copy_s});
    rep.write_s = comm::allreduce(comm, monotonic_seconds() - t2, comm::ReduceOp::max);
  }
  std::vector<double> seconds;
  for (const auto& p : rep.phases) seconds.push_back(p.second);
  comm::allreduce_inplace(comm, seconds, comm::ReduceOp::max);  // every rank has the same phases
  for (size_t i = 0; i < seconds.size(); ++i) rep.phases[i].second = seconds[i];
  rep.read_s = comm::allreduce(comm, t1 - t0, comm::ReduceOp::max);
  rep.total_s = comm::allreduce(comm, monotonic_seconds() - t0, comm::ReduceOp::max);
  return rep;
}

}  // namespace tickstream
