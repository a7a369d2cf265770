// /features, /labels and /stats writer: chunked Fletcher32 datasets, sealed on every rank, written
// by rank 0 with direct chunk writes.
#include "features/feature_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "core/error.hpp"
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

// Rank 0: the empty datasets of the three groups with their attributes, and /stats.
std::vector<h5::Handle> create_groups(const h5::File& file, const FeatureGroupsInfo& info, const RunningStats& stats) {
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
  write_stats(file, info, stats);
  return ds;
}

// Rows of one batch: whole chunk rows, about kBatchBytes of chunks (at least one chunk row).
constexpr int64_t kBatchBytes = int64_t{16} << 20;
int64_t batch_rows(const ChunkGrid& grid, size_t value_bytes) {
  const int64_t chunk_row = grid.rows_per_chunk * grid.chunk_columns() * grid.bars_per_chunk * static_cast<int64_t>(value_bytes);
  return grid.rows_per_chunk * std::max<int64_t>(1, kBatchBytes / std::max<int64_t>(1, chunk_row));
}

// One dataset: this rank's rows of row-major `values` sealed batch by batch into `chunks` (its
// buffer reused: no fresh pages) and written by rank 0, every rank's batch k before batch k + 1.
void write_dataset(comm::Communicator& comm, RawChunks& chunks, const ChunkGrid& grid, int64_t row_begin, int64_t rows,
                   const uint8_t* values, size_t value_bytes, int threads, const std::function<void(const ChunkBlock&)>& write) {
  const int64_t step = batch_rows(grid, value_bytes);
  const int64_t batches = comm::allreduce(comm, (rows + step - 1) / step, comm::ReduceOp::max);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t first = std::min(rows, b * step), n = std::min(step, rows - first);
    chunks.reuse_for(row_begin + first, n, value_bytes);
    chunks.fill_from_rows(values + static_cast<size_t>(first * grid.bars) * value_bytes, threads);
    write_on_root(comm, chunks, write);
  }
}

}  // namespace

void write_feature_groups(comm::Communicator& comm, const std::string& path, const FeatureGroupsInfo& info,
                          const FeatureBlock& block, int64_t row_begin, int64_t rows, const RunningStats& stats,
                          int threads, const RootStep& on_root) {
  TS_CHECK(static_cast<int64_t>(info.feature_names.size()) == block.width, "{} feature names for {} columns",
           info.feature_names.size(), block.width);
  std::optional<h5::File> file;
  std::vector<h5::Handle> datasets;
  on_root([&] {
    file.emplace(h5::File::open(path, true, nullptr));
    datasets = create_groups(*file, info, stats);
  });
  const ChunkGrid grid(info.tickers, info.bars, info.chunk_tickers, info.chunk_bars);
  const auto bytes = [](const auto& v) { return reinterpret_cast<const uint8_t*>(v.data()); };
  const std::vector<std::pair<const uint8_t*, size_t>> parts{
      {bytes(block.features), static_cast<size_t>(block.width) * sizeof(float)}, {bytes(block.feature_valid), 1},
      {bytes(block.labels), static_cast<size_t>(kLabelCount) * sizeof(float)}, {bytes(block.label_valid), 1}};
  RawChunks chunks(grid, row_begin, 0, 1);
  for (size_t d = 0; d < parts.size(); ++d)
    write_dataset(comm, chunks, grid, row_begin, rows, parts[d].first, parts[d].second, threads,
                  [&](const ChunkBlock& b) { on_root([&] { write_sealed_chunks(datasets[d].id(), b); }); });
  on_root([&] {
    datasets.clear();
    file->close();
  });
}

}  // namespace tickstream
