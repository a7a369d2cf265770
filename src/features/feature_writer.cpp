// /features, /labels and /stats writer: chunked Fletcher32 datasets, sealed on every rank, written
// by rank 0 with direct chunk writes.
#include "features/feature_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "features/feature_set.hpp"
#include "comm/collectives.hpp"
#include "store/sealed_writes.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

h5::Handle cube(hid_t group, const char* name, hid_t type, const FeatureGroupsInfo& info, int64_t columns) {
  const auto n = static_cast<hsize_t>(info.tickers), t = static_cast<hsize_t>(info.bars);
  std::vector<hsize_t> dims{n, t}, chunk{static_cast<hsize_t>(info.chunk_tickers), static_cast<hsize_t>(info.chunk_bars)};
  if (columns > 0) dims.push_back(static_cast<hsize_t>(columns)), chunk.push_back(static_cast<hsize_t>(columns));
  const bool empty = n == 0 || t == 0;
  return h5::create_dataset(group, name, {type, dims, empty ? std::vector<hsize_t>{} : chunk, !empty});
}

void write_stats(const h5::File& file, const FeatureGroupsInfo& info, const RunningStats& stats) {
  h5::Handle group = h5::create_group(file.id(), store::path::kStats);
  const std::vector<int64_t> counts = stats.counts();
  const std::vector<double> count(counts.begin(), counts.end());
  for (const auto& [name, data] : {std::pair{"count", count}, {"mean", stats.means()}, {"std", stats.stddevs()}})
    h5::write_vector(file, group.id(), name, H5T_NATIVE_DOUBLE, data.data(), data.size(), true);
  h5::set_attr(group.id(), "period_start", info.period_start);
  h5::set_attr(group.id(), "period_end", info.period_end);
  h5::set_attr(group.id(), "config_hash", info.config_hash);
  h5::set_attr(group.id(), "names", info.feature_names);
}

// Rank 0: the empty datasets of /features and /labels with their attributes (/stats at the end).
std::vector<h5::Handle> create_groups(const h5::File& file, const FeatureGroupsInfo& info) {
  for (const char* g : {"features", "labels", "stats"}) h5::remove_if_exists(file.id(), g);
  h5::Handle features = h5::create_group(file.id(), store::path::kFeatures);
  h5::Handle labels = h5::create_group(file.id(), store::path::kLabels);
  std::vector<h5::Handle> ds;
  ds.push_back(cube(features.id(), "values", H5T_IEEE_F32LE, info, static_cast<int64_t>(info.feature_names.size())));
  ds.push_back(cube(features.id(), "valid", H5T_STD_U8LE, info, 0));
  ds.push_back(cube(labels.id(), "values", H5T_IEEE_F32LE, info, kLabelCount));
  ds.push_back(cube(labels.id(), "valid", H5T_STD_U8LE, info, 0));
  h5::set_attr(ds[0].id(), "names", info.feature_names);
  h5::set_attr(ds[0].id(), "config_hash", info.config_hash);
  h5::set_attr(ds[0].id(), "cache_key", info.cache_key);
  h5::set_attr(ds[0].id(), "definitions_version", kDefinitionsVersion);
  h5::set_attr(ds[0].id(), "gaps", info.gaps);
  h5::set_attr(ds[0].id(), "max_missing_bars", info.max_missing_bars);
  h5::set_attr(ds[2].id(), "names",
               std::vector<std::string>{fmt::format("fwd_logret_{}", info.horizon), fmt::format("fwd_up_{}", info.horizon)});
  h5::set_attr(ds[2].id(), "horizon", info.horizon);
  return ds;
}

}  // namespace

FeatureGroupsWriter::FeatureGroupsWriter(comm::Communicator& comm, std::string path, const FeatureGroupsInfo& info,
                                         int threads, RootStep on_root, std::function<void()> before_open)
    : comm_(comm),
      path_(std::move(path)),
      info_(info),
      threads_(threads),
      on_root_(std::move(on_root)),
      before_open_(std::move(before_open)),
      grid_(info.tickers, info.bars, info.chunk_tickers, info.chunk_bars),
      chunks_(grid_, 0, 0, 1) {}

void FeatureGroupsWriter::open_once() {
  if (opened_) return;
  opened_ = true;
  before_open_();
  const double t0 = monotonic_seconds();
  on_root_([&] {
    file_.emplace(h5::File::open(path_, true, nullptr));
    datasets_ = create_groups(*file_, info_);
  });
  open_s_ = monotonic_seconds() - t0;
}

void FeatureGroupsWriter::write_rows(const FeatureBlock& block, int64_t row_begin, int64_t rows) {
  TS_CHECK(static_cast<int64_t>(info_.feature_names.size()) == block.width, "{} feature names for {} columns",
           info_.feature_names.size(), block.width);
  open_once();
  const auto bytes = [](const auto& v) { return reinterpret_cast<const uint8_t*>(v.data()); };
  const std::pair<const uint8_t*, size_t> parts[] = {
      {bytes(block.features), static_cast<size_t>(block.width) * sizeof(float)}, {bytes(block.feature_valid), 1},
      {bytes(block.labels), static_cast<size_t>(kLabelCount) * sizeof(float)}, {bytes(block.label_valid), 1}};
  for (size_t d = 0; d < std::size(parts); ++d) {
    const double t0 = monotonic_seconds();
    chunks_.reuse_for(row_begin, rows, parts[d].second);
    chunks_.fill_from_rows(parts[d].first, threads_);
    const double t1 = monotonic_seconds();
    write_on_root(comm_, chunks_, [&](const ChunkBlock& b) { on_root_([&] { write_sealed_chunks(datasets_[d].id(), b); }); });
    seal_s_ += t1 - t0, write_s_ += monotonic_seconds() - t1;
  }
}

void FeatureGroupsWriter::finish(const RunningStats& stats) {
  open_once();  // (no rows anywhere: the groups are still replaced)
  const double t0 = monotonic_seconds();
  on_root_([&] {
    write_stats(*file_, info_, stats);
    datasets_.clear();
    file_->close();
  });
  spdlog::debug("features: store opened and groups replaced {:.3f} s, chunks filled and sealed {:.3f} s, shipped and "
                "written {:.3f} s, /stats and close {:.3f} s", open_s_, seal_s_, write_s_, monotonic_seconds() - t0);
}

}  // namespace tickstream
