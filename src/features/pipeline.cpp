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

// Training-period statistics of one batch's rows (all bars when no period is configured): one
// partial per block of kFeatureChunkTickers rows (the batch starts on a block), each in row order.
// Merged in block order they give the same bytes at any rank count (ranks own whole blocks).
void add_block_stats(const FeatureBlock& f, const BarRange& period, int64_t bars, int64_t rows, int threads,
                     RunningStats* blocks) {
  const int64_t first = period.first, last = period.last + 1, block = store::kFeatureChunkTickers;
  parallel_ranges((rows + block - 1) / block, threads, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k)
      for (int64_t r = k * block; r < std::min(rows, (k + 1) * block); ++r) {
        const size_t o = static_cast<size_t>(r * bars + first);
        blocks[k].add_rows(f.features.data() + o * static_cast<size_t>(f.width), last - first, f.feature_valid.data() + o);
      }
  });
}

// Rows [first, first + n) of `from` into `into` (its buffers reused).
void slice_rows(const RawBlock& from, int64_t first, int64_t n, RawBlock& into) {
  into.row_begin = from.row_begin + first, into.rows = n, into.bars = from.bars, into.has_adj_close = from.has_adj_close;
  const auto at = static_cast<size_t>(first * from.bars), count = static_cast<size_t>(n * from.bars);
  const auto copy = [&](const auto& src, auto& dst) {
    if (src.empty()) return dst.clear();
    dst.assign(src.begin() + static_cast<ptrdiff_t>(at), src.begin() + static_cast<ptrdiff_t>(at + count));
  };
  copy(from.open, into.open), copy(from.high, into.high), copy(from.low, into.low), copy(from.close, into.close);
  copy(from.volume, into.volume), copy(from.adj_close, into.adj_close), copy(from.valid, into.valid);
}

// Seconds of the streamed phases, summed over batches.
struct StreamSeconds {
  FeatureTimings kernels;
  double slice = 0, timeframes = 0, stats = 0, write = 0;
};

// Features of this rank's rows in batches of whole chunk rows (~batch_bytes of features each, the
// same number of batches on every rank): kernels, timeframes, the statistics' block partials, and
// the batch's chunks written; the buffers are reused batch after batch (no fresh pages), so
// memory does not grow with the universe. Returns the blocks' partials.
std::vector<RunningStats> stream_features(comm::Communicator& comm, const Config& c, const RawBlock& raw,
                                          const std::vector<int64_t>& time, const std::vector<TimeframeSpec>& timeframes,
                                          const BarRange& period, FeatureGroupsWriter& writer, int threads,
                                          int64_t batch_bytes, StreamSeconds& sec, int64_t& valid_rows) {
  const int64_t block = store::kFeatureChunkTickers, width = static_cast<int64_t>(feature_columns(timeframes).size());
  const int64_t step = block * std::max<int64_t>(1, batch_bytes / std::max<int64_t>(1, block * raw.bars * width * 4));
  const int64_t batches = comm::allreduce(comm, (raw.rows + step - 1) / step, comm::ReduceOp::max);
  const Gaps gaps = c.features.gaps == "skip" ? Gaps::skip : Gaps::strict;
  std::vector<RunningStats> blocks(static_cast<size_t>((raw.rows + block - 1) / block), RunningStats(width));
  RawBlock part;
  FeatureBlock f;
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t first = std::min(raw.rows, b * step), n = std::min(step, raw.rows - first);
    double t = monotonic_seconds();
    const auto lap = [&t](double& into) {
      const double now = monotonic_seconds();
      into += now - t, t = now;
    };
    slice_rows(raw, first, n, part);
    lap(sec.slice);
    compute_feature_block_into(part, c.features.horizon, gaps, f, &sec.kernels, threads);
    t = monotonic_seconds();
    if (!timeframes.empty()) f = add_timeframes(part, time, std::move(f), timeframes, gaps);
    lap(sec.timeframes);
    for (uint8_t v : f.feature_valid) valid_rows += v;
    add_block_stats(f, period, raw.bars, n, threads, blocks.data() + first / block);
    lap(sec.stats);
    writer.write_rows(f, raw.row_begin + first, n);
    lap(sec.write);
  }
  return blocks;
}

// Agrees on rank 0's write failure and renames the copy over the store.
void commit_store(comm::Communicator& comm, AtomicOutput& out, const std::exception_ptr& failure) {
  agree_on_failure(comm, failure);
  out.commit();
}

// The streamed phases into the report (phases in order; compute and write seconds, max over ranks).
void report_streamed(comm::Communicator& comm, const StreamSeconds& sec, double copy_s, FeaturesReport& rep) {
  for (const auto& [name, seconds] :
       {std::pair{"copy_store", copy_s}, {"slice", sec.slice}, {"upload", sec.kernels.upload_s},
        {"features_kernel", sec.kernels.features_s}, {"labels_kernel", sec.kernels.labels_s},
        {"download", sec.kernels.download_s}, {"timeframes", sec.timeframes}, {"stats", sec.stats}, {"write", sec.write}})
    rep.phases.emplace_back(name, seconds);
  const double compute = sec.slice + sec.kernels.upload_s + sec.kernels.features_s + sec.kernels.labels_s +
                         sec.kernels.download_s + sec.timeframes + sec.stats;
  rep.compute_s = comm::allreduce(comm, compute, comm::ReduceOp::max);
  rep.write_s = comm::allreduce(comm, copy_s + sec.write, comm::ReduceOp::max);
}

// A cache miss: the features streamed batch by batch into the store's copy (rank 0 began it
// after the open), then the copy renamed over the store; the report's phases, counts and times.
void compute_and_replace(comm::Communicator& comm, const Config& c, const RawBlock& raw, const std::vector<int64_t>& time,
                         const std::vector<TimeframeSpec>& timeframes, AtomicOutput& out, int threads,
                         int64_t batch_bytes, FeaturesReport& rep) {
  std::exception_ptr failure;
  const RootStep on_root = [&](const std::function<void()>& step) {
    if (comm.rank() != 0 || failure) return;
    try {
      out.write(step);
    } catch (...) {
      failure = std::current_exception();
    }
  };
  const FeatureGroupsInfo info{rep.tickers, rep.bars, c.features.horizon, c.features.gaps, c.features.max_missing_bars,
                              feature_columns(timeframes), store::kFeatureChunkTickers, store::kFeatureChunkBars,
                              c.hash(), rep.cache_key, c.data.train_start ? format_timestamp(c.data.train_start) : "",
                              c.data.train_end ? format_timestamp(c.data.train_end) : ""};
  // A date-only train_end includes every bar of that day (intraday stores): period_bars.
  const BarRange period = period_bars(time, c.data.train_start, c.data.train_end);
  StreamSeconds sec;
  maybe_inject_fault("features_write", comm.rank());  // before the writes: the others go on
  double copy_s = 0;
  const auto wait_for_copy = [&] {
    const double w0 = monotonic_seconds();
    out.finish_copy();
    copy_s = monotonic_seconds() - w0;
  };
  {
    FeatureGroupsWriter writer(comm, out.temp_path(), info, threads, on_root, wait_for_copy);
    const std::vector<RunningStats> blocks =
        stream_features(comm, c, raw, time, timeframes, period, writer, threads, batch_bytes, sec, rep.valid_rows);
    sec.write = std::max(0.0, sec.write - copy_s);  // the first write waited for the copy: its own phase
    const double m0 = monotonic_seconds();
    const RunningStats stats = merge_blocks(comm, blocks, static_cast<int64_t>(info.feature_names.size()));
    rep.train_rows = stats.counts().empty() ? 0 : stats.counts()[0];
    sec.stats += monotonic_seconds() - m0;
    writer.finish(stats);
  }
  const double m1 = monotonic_seconds();
  rep.valid_rows = comm::allreduce(comm, rep.valid_rows, comm::ReduceOp::sum);
  commit_store(comm, out, failure);
  sec.write += monotonic_seconds() - m1;
  report_streamed(comm, sec, copy_s, rep);
}

}  // namespace

nlohmann::json FeaturesReport::to_json() const {
  return {{"cache_hit", cache_hit}, {"cache_key", cache_key}, {"tickers", tickers}, {"bars", bars},
          {"valid_rows", valid_rows}, {"train_rows", train_rows}, {"read_s", read_s}, {"compute_s", compute_s},
          {"write_s", write_s}, {"total_s", total_s}, {"phases", nlohmann::json(phases)}};
}

FeaturesReport run_features(comm::Communicator& comm, const Config& c, bool force, int threads, int64_t batch_bytes) {
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
  // The store's copy, where a miss writes, starts now on rank 0, beside the read and the
  // fingerprint; a cache hit abandons it (stopped within one piece, removed).
  auto out = std::make_unique<AtomicOutput>(c.data.store, comm);
  out->start_copy_from(c.data.store);
  const RawBlock raw = reader->read_raw(begin, end - begin);
  lap("read_raw");
  rep.cache_key = cache_key(raw_fingerprint(comm, raw, *reader), c);
  const bool hit = !force && stored_key(*reader) == rep.cache_key;
  const std::vector<int64_t> time = reader->time();
  reader.reset();
  lap("fingerprint");
  const double t1 = monotonic_seconds();
  if (hit) {
    out.reset();
    rep.cache_hit = true;
    spdlog::info("features: cache hit (key {}): {} already holds these features; nothing written", rep.cache_key,
                 c.data.store);
  } else {
    compute_and_replace(comm, c, raw, time, timeframes, *out, threads, batch_bytes, rep);
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
