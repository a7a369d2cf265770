// /features, /labels and /stats writer: chunked Fletcher32 datasets, collective row writes.
#include "features/feature_writer.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "features/feature_set.hpp"
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

void write_pair(const h5::File& file, const char* group_name, const FeatureGroupsInfo& info,
                const std::vector<std::string>& names, const std::vector<float>& values,
                const std::vector<uint8_t>& valid, int64_t row_begin, int64_t rows) {
  h5::Handle group = h5::create_group(file.id(), group_name);
  h5::Handle v = cube(group.id(), "values", H5T_IEEE_F32LE, info, static_cast<int64_t>(names.size()));
  h5::write_rows(file, v.id(), H5T_NATIVE_FLOAT, static_cast<hsize_t>(row_begin), static_cast<hsize_t>(rows), values.data());
  h5::set_attr(v.id(), "names", names);
  h5::Handle m = cube(group.id(), "valid", H5T_STD_U8LE, info, 0);
  h5::write_rows(file, m.id(), H5T_NATIVE_UINT8, static_cast<hsize_t>(row_begin), static_cast<hsize_t>(rows), valid.data());
}

void write_stats(const h5::File& file, const FeatureGroupsInfo& info, const RunningStats& stats) {
  h5::Handle group = h5::create_group(file.id(), store::path::kStats);
  const std::vector<int64_t> counts = stats.counts();
  const std::vector<double> count(counts.begin(), counts.end());
  for (const auto& [name, data] : {std::pair{"count", count}, {"mean", stats.means()}, {"std", stats.stddevs()}})
    h5::write_vector(file, group.id(), name, H5T_NATIVE_DOUBLE, data.data(), data.size(), info.writer);
  h5::set_attr(group.id(), "period_start", info.period_start);
  h5::set_attr(group.id(), "period_end", info.period_end);
  h5::set_attr(group.id(), "config_hash", info.config_hash);
  h5::set_attr(group.id(), "names", info.feature_names);
}

}  // namespace

void write_feature_groups(const h5::File& file, const FeatureGroupsInfo& info, const FeatureBlock& block,
                          int64_t row_begin, int64_t rows, const RunningStats& stats) {
  for (const char* g : {"features", "labels", "stats"}) h5::remove_if_exists(file.id(), g);
  TS_CHECK(static_cast<int64_t>(info.feature_names.size()) == block.width, "{} feature names for {} columns",
           info.feature_names.size(), block.width);
  write_pair(file, store::path::kFeatures, info, info.feature_names, block.features, block.feature_valid, row_begin, rows);
  const std::vector<std::string> label_names{fmt::format("fwd_logret_{}", info.horizon), fmt::format("fwd_up_{}", info.horizon)};
  write_pair(file, store::path::kLabels, info, label_names, block.labels, block.label_valid, row_begin, rows);
  h5::Handle features = h5::open_dataset(file.id(), store::path::kFeatureValues);
  h5::set_attr(features.id(), "config_hash", info.config_hash);
  h5::set_attr(features.id(), "cache_key", info.cache_key);
  h5::set_attr(features.id(), "definitions_version", kDefinitionsVersion);
  h5::set_attr(features.id(), "gaps", info.gaps);
  h5::set_attr(features.id(), "max_missing_bars", info.max_missing_bars);
  h5::Handle labels = h5::open_dataset(file.id(), store::path::kLabelValues);
  h5::set_attr(labels.id(), "horizon", info.horizon);
  write_stats(file, info, stats);
}

}  // namespace tickstream
