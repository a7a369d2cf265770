// Fold statistics (features over a bar window) and realized outcomes (labels, next-bar returns).
#include "research/fold_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/partition.hpp"
#include "features/running_stats.hpp"
#include "store/h5.hpp"
#include "store/store_reader.hpp"

namespace tickstream {
namespace {

constexpr int64_t kRowBlock = 64;  // tickers read at a time
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// /features rows [begin, end) x bars `r`, a partial per block of kFeatureChunkTickers rows (the
// features stage's blocks: `begin` is a multiple of it).
std::vector<RunningStats> block_stats(const StoreReader& reader, int64_t begin, int64_t end, const BarRange& r,
                                      int64_t features) {
  const int64_t bars = r.size(), block = store::kFeatureChunkTickers;
  h5::Handle values = h5::open_dataset(reader.root(), store::path::kFeatureValues);
  h5::Handle valid = h5::open_dataset(reader.root(), store::path::kFeatureValid);
  std::vector<float> x;
  std::vector<uint8_t> ok;
  std::vector<RunningStats> out;
  for (int64_t b = begin; b < end; b += block) {
    const int64_t rows = std::min(block, end - b);
    x.resize(static_cast<size_t>(rows * bars * features)), ok.resize(static_cast<size_t>(rows * bars));
    const auto row0 = static_cast<hsize_t>(b), bar0 = static_cast<hsize_t>(r.first);
    h5::read_slab(reader.file(), values.id(), H5T_NATIVE_FLOAT, {row0, bar0, 0},
                  {static_cast<hsize_t>(rows), static_cast<hsize_t>(bars), static_cast<hsize_t>(features)}, x.data());
    h5::read_slab(reader.file(), valid.id(), H5T_NATIVE_UINT8, {row0, bar0},
                  {static_cast<hsize_t>(rows), static_cast<hsize_t>(bars)}, ok.data());
    out.emplace_back(features);
    for (int64_t i = 0; i < rows; ++i) out.back().add_rows(x.data() + i * bars * features, bars, ok.data() + i * bars);
  }
  return out;
}

}  // namespace

NormalizationStats fit_window_stats(comm::Communicator& comm, const std::string& store, const BarRange& train) {
  const StoreReader reader(store);
  const FeatureStoreInfo info = read_feature_info(reader);
  const auto owners = balanced_owners_grouped(std::vector<int64_t>(static_cast<size_t>(info.tickers_count()), 1),
                                              comm.size(), store::kFeatureChunkTickers);
  const auto [begin, end] = owned_range(owners, comm.rank());
  const std::vector<RunningStats> blocks =
      train.empty() ? std::vector<RunningStats>{} : block_stats(reader, begin, end, train, info.features());
  const RunningStats all = merge_blocks(comm, blocks, info.features());
  return NormalizationStats{all.means(), all.stddevs()};
}

Outcomes read_outcomes(const std::string& store, int64_t begin, int64_t end, const BarRange& bars) {
  const StoreReader reader(store);
  const int64_t rows = end - begin, n = bars.size();
  Outcomes out;
  out.label.assign(static_cast<size_t>(rows * n), kNaN), out.next_return.assign(static_cast<size_t>(rows * n), kNaN);
  if (rows <= 0 || n <= 0) return out;
  h5::Handle values = h5::open_dataset(reader.root(), store::path::kLabelValues);
  h5::Handle valid = h5::open_dataset(reader.root(), store::path::kLabelValid);
  const auto labels = static_cast<hsize_t>(h5::dataset_dims(values.id()).at(2));
  std::vector<float> y(static_cast<size_t>(rows * n) * labels);
  std::vector<uint8_t> ok(static_cast<size_t>(rows * n));
  const auto row0 = static_cast<hsize_t>(begin), bar0 = static_cast<hsize_t>(bars.first);
  h5::read_slab(reader.file(), values.id(), H5T_NATIVE_FLOAT, {row0, bar0, 0},
                {static_cast<hsize_t>(rows), static_cast<hsize_t>(n), labels}, y.data());
  h5::read_slab(reader.file(), valid.id(), H5T_NATIVE_UINT8, {row0, bar0}, {static_cast<hsize_t>(rows), static_cast<hsize_t>(n)},
                ok.data());
  for (size_t k = 0; k < ok.size(); ++k)
    if (ok[k]) out.label[k] = y[k * labels];
  for (int64_t b = begin; b < end; b += kRowBlock) {
    const RawBlock raw = reader.read_raw(b, std::min(kRowBlock, end - b));
    for (int64_t i = 0; i < raw.rows; ++i)
      for (int64_t t = bars.first; t <= bars.last && t + 1 < raw.bars; ++t) {
        const size_t a = raw.index(i, t), z = raw.index(i, t + 1);
        if (!raw.valid[a] || !raw.valid[z]) continue;
        const auto& px = raw.has_adj_close ? raw.adj_close : raw.close;
        const double c0 = std::isfinite(px[a]) ? px[a] : raw.close[a], c1 = std::isfinite(px[z]) ? px[z] : raw.close[z];
        out.next_return[static_cast<size_t>((b - begin + i) * n + (t - bars.first))] = static_cast<float>(c1 / c0 - 1.0);
      }
  }
  return out;
}

double bars_per_year(const std::vector<int64_t>& time) {
  std::vector<int64_t> per_day;
  for (size_t i = 0; i < time.size();) {
    size_t j = i;
    while (j < time.size() && time[j] / 86400 == time[i] / 86400) ++j;
    per_day.push_back(static_cast<int64_t>(j - i));
    i = j;
  }
  if (per_day.empty()) return 252.0;
  std::nth_element(per_day.begin(), per_day.begin() + static_cast<long>(per_day.size() / 2), per_day.end());
  return 252.0 * static_cast<double>(per_day[per_day.size() / 2]);
}

}  // namespace tickstream
