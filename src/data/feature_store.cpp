// Feature store reads: metadata and statistics, validity masks (one hyperslab per dataset).
#include "data/feature_store.hpp"

#include "core/error.hpp"
#include "store/h5.hpp"
#include "store/store_format.hpp"

namespace tickstream {
namespace {

void require_group(const StoreReader& store, const char* name) {
  TS_REQUIRE_INPUT(h5::exists(store.root(), name),
                   "{}: no /{} group: run `tickstream features --config ...` on this store first",
                   store.path(), name);
}

std::vector<double> read_doubles(const StoreReader& store, const char* path, int64_t expected) {
  h5::Handle ds = h5::open_dataset(store.root(), path);
  const auto dims = h5::dataset_dims(ds.id());
  TS_REQUIRE_INPUT(dims.size() == 1 && static_cast<int64_t>(dims[0]) == expected,
                   "{}: /{} has {} values, expected {} (one per feature)", store.path(), path,
                   dims.empty() ? 0 : dims[0], expected);
  std::vector<double> out(static_cast<size_t>(expected));
  h5::read_slab(store.file(), ds.id(), H5T_NATIVE_DOUBLE, {0}, {dims[0]}, out.data());
  return out;
}

template <typename T>
void read_all(const StoreReader& store, const char* path, hid_t type, int64_t row_begin, int64_t rows,
              std::vector<T>& out) {
  h5::Handle ds = h5::open_dataset(store.root(), path);
  auto dims = h5::dataset_dims(ds.id());
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = static_cast<hsize_t>(row_begin);
  count[0] = static_cast<hsize_t>(rows);
  size_t n = 1;
  for (hsize_t c : count) n *= c;
  out.resize(n);
  if (n > 0) h5::read_slab(store.file(), ds.id(), type, start, count, out.data());
}

}  // namespace

FeatureStoreInfo read_feature_info(const StoreReader& store) {
  for (const char* g : {"features", "labels", "stats"}) require_group(store, g);
  FeatureStoreInfo info;
  info.path = store.path();
  info.tickers = store.tickers();
  info.time = store.time();
  h5::Handle fv = h5::open_dataset(store.root(), store::path::kFeatureValues);
  info.feature_names = h5::get_attr_strings(fv.id(), "names");
  info.features_hash = h5::get_attr_string(fv.id(), "config_hash");
  if (h5::has_attr(fv.id(), "gaps")) {  // stores written before [features] gaps: strict
    info.gaps = h5::get_attr_string(fv.id(), "gaps");
    info.max_missing_bars = h5::get_attr_int(fv.id(), "max_missing_bars");
  }
  h5::Handle lv = h5::open_dataset(store.root(), store::path::kLabelValues);
  info.label_names = h5::get_attr_strings(lv.id(), "names");
  info.horizon = h5::get_attr_int(lv.id(), "horizon");
  TS_REQUIRE_INPUT(info.label_names.size() >= 2, "{}: /labels/values has {} labels, expected 2",
                   store.path(), info.label_names.size());
  info.mean = read_doubles(store, store::path::kStatsMean, info.features());
  info.std = read_doubles(store, store::path::kStatsStd, info.features());
  return info;
}

ValidityMasks read_validity(const StoreReader& store) {
  ValidityMasks m;
  m.tickers = static_cast<int64_t>(store.tickers().size());
  m.bars = static_cast<int64_t>(store.time().size());
  read_all(store, store::path::kFeatureValid, H5T_NATIVE_UINT8, 0, m.tickers, m.features);
  read_all(store, store::path::kLabelValid, H5T_NATIVE_UINT8, 0, m.tickers, m.labels);
  return m;
}

}  // namespace tickstream
