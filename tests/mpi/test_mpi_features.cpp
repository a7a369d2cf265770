// features at 1, 2, 3 ranks: datasets equal serial, stats match a two-pass reference; cache behaviour.
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <filesystem>
#include <vector>

#include "common/two_pass_stats.hpp"
#include "core/config.hpp"
#include "features/feature_set.hpp"
#include "features/pipeline.hpp"
#include "mpi/mpi_test.hpp"
#include "store/h5.hpp"
#include "store/store_reader.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace {
namespace fs = std::filesystem;

class MpiFeatures : public testing::MpiTest {
 protected:
  // A synthetic store written by every rank (par) and rank 0's copy of it (ser), for a serial
  // run to compare against.
  std::pair<std::string, std::string> synth_pair(int64_t tickers, int64_t days, uint64_t seed) {
    const std::string dir = temp_dir(), par = dir + "/par.h5", ser = dir + "/ser.h5";
    SynthSpec spec;
    spec.tickers = tickers, spec.days = days, spec.seed = seed;
    run_synth(comm(), spec, {"", par, 16, 4096});
    if (rank() == 0) fs::copy_file(par, ser);
    return {par, ser};
  }
};

Config job(const std::string& store, int64_t horizon = 1) {
  return parse_config(fmt::format("[data]\nstore = \"{}\"\ntrain_start = 2010-03-01\ntrain_end = 2011-06-30\n"
                                  "[features]\nhorizon = {}\n", store, horizon),
                      "job.toml");
}

template <typename T>
std::vector<T> read_all(const std::string& path, const char* name, hid_t type) {
  const StoreReader r(path);
  h5::Handle ds = h5::open_dataset(r.root(), name);
  const auto dims = h5::dataset_dims(ds.id());
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  h5::read_rows(r.file(), ds.id(), type, 0, dims[0], out.data());
  return out;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_F(MpiFeatures, SameAsSerialAndStatsMatchTwoPassReference) {
  const auto [par, ser] = synth_pair(41, 500, 21);
  // Batches of one chunk row (16 tickers) here: 3 batches at 1 rank, 2 and 1 at 2 ranks (the
  // second rank passes an empty one); the serial run below writes its 41 tickers in one batch.
  const FeaturesReport rep = run_features(comm(), job(par), false, 2, /*batch_bytes=*/1);
  EXPECT_FALSE(rep.cache_hit);
  if (rank() != 0) return;
  run_features(tickstream::testing::self(), job(ser), false);
  for (const char* name : {"features/values", "labels/values"})
    EXPECT_TRUE(bitwise_equal(read_all<float>(par, name, H5T_NATIVE_FLOAT), read_all<float>(ser, name, H5T_NATIVE_FLOAT))) << name;
  for (const char* name : {"features/valid", "labels/valid"})
    EXPECT_EQ(read_all<uint8_t>(par, name, H5T_NATIVE_UINT8), read_all<uint8_t>(ser, name, H5T_NATIVE_UINT8)) << name;
  // Two-pass reference over the training period, from the stored float features.
  const auto f = read_all<float>(par, "features/values", H5T_NATIVE_FLOAT);
  const auto v = read_all<uint8_t>(par, "features/valid", H5T_NATIVE_UINT8);
  const StoreReader r(par);
  std::vector<std::vector<double>> per_feature(kFeatureCount);
  const int64_t lo = job(par).data.train_start, hi = job(par).data.train_end;
  const size_t bars = r.time().size();
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t t = r.time()[i % bars];
    if (!v[i] || t < lo || t > hi) continue;
    for (int64_t j = 0; j < kFeatureCount; ++j) per_feature[j].push_back(f[i * kFeatureCount + j]);
  }
  const auto ref = testing::two_pass_stats(per_feature);
  const auto mean = read_all<double>(par, "stats/mean", H5T_NATIVE_DOUBLE);
  const auto sd = read_all<double>(par, "stats/std", H5T_NATIVE_DOUBLE);
  const auto count = read_all<double>(par, "stats/count", H5T_NATIVE_DOUBLE);
  for (int64_t j = 0; j < kFeatureCount; ++j) {
    EXPECT_EQ(count[j], static_cast<double>(ref[j].count)) << kFeatureNames[j];
    EXPECT_NEAR(mean[j], ref[j].mean, 1e-12 * std::max(1.0, std::fabs(ref[j].mean))) << kFeatureNames[j];
    EXPECT_NEAR(sd[j], std::sqrt(ref[j].m2 / ref[j].count), 1e-12 * std::max(1.0, sd[j])) << kFeatureNames[j];
  }
  EXPECT_GT(count[0], 41 * 200);
  // /stats are partials over fixed blocks of 16 tickers merged in block order: the one-rank run on
  // the copy wrote the same bytes as this run at 1, 2 or 3 ranks.
  for (const char* name : {"stats/mean", "stats/std", "stats/count"}) {
    const auto a = read_all<double>(par, name, H5T_NATIVE_DOUBLE), b = read_all<double>(ser, name, H5T_NATIVE_DOUBLE);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0) << name;
  }
}

// [features.timeframes]: weekly columns after the default set, the same bytes at any rank count,
// and statistics over them.
TEST_F(MpiFeatures, TimeframeColumnsAreWrittenAndRankCountIndependent) {
  const auto [par, ser] = synth_pair(35, 400, 6);
  const std::string text = fmt::format("[data]\nstore = \"{}\"\ntrain_end = 2010-12-31\n[features.timeframes]\n"
                                       "\"1w\" = [\"rsi_14\", \"vol_20\"]\n", par);
  run_features(comm(), parse_config(text, "tf.toml"), false, 1, /*batch_bytes=*/1);  // a batch per chunk row
  const StoreReader r(par);
  h5::Handle ds = h5::open_dataset(r.root(), "features/values");
  const auto names = h5::get_attr_strings(ds.id(), "names");
  ASSERT_EQ(names.size(), static_cast<size_t>(kFeatureCount + 2));
  EXPECT_EQ(names[kFeatureCount], "1w_rsi_14");
  EXPECT_EQ(names[kFeatureCount + 1], "1w_vol_20");
  EXPECT_EQ(read_all<double>(par, "stats/mean", H5T_NATIVE_DOUBLE).size(), names.size());
  if (rank() != 0) return;
  std::string serial = text;
  serial.replace(serial.find(par), par.size(), ser);
  run_features(tickstream::testing::self(), parse_config(serial, "tf.toml"), false);
  for (const char* name : {"features/values"})
    EXPECT_TRUE(bitwise_equal(read_all<float>(par, name, H5T_NATIVE_FLOAT), read_all<float>(ser, name, H5T_NATIVE_FLOAT)));
  const auto a = read_all<double>(par, "stats/std", H5T_NATIVE_DOUBLE), b = read_all<double>(ser, "stats/std", H5T_NATIVE_DOUBLE);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)), 0);
  EXPECT_TRUE(std::isfinite(a[kFeatureCount]) && a[kFeatureCount] > 0);
}

TEST_F(MpiFeatures, CacheHitMissAndForce) {
  const std::string dir = temp_dir(), path = dir + "/s.h5";
  SynthSpec spec;
  spec.tickers = 20, spec.days = 300, spec.seed = 4;
  run_synth(comm(), spec, {"", path, 16, 4096});
  const FeaturesReport first = run_features(comm(), job(path), false);
  EXPECT_FALSE(first.cache_hit);
  const auto stamp = fs::last_write_time(path);
  const FeaturesReport again = run_features(comm(), job(path), false);
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(again.cache_key, first.cache_key);
  EXPECT_EQ(fs::last_write_time(path), stamp);  // a hit writes nothing
  EXPECT_FALSE(run_features(comm(), job(path, 2), false).cache_hit);  // config changed
  EXPECT_FALSE(run_features(comm(), job(path, 2), true).cache_hit);   // --force
  EXPECT_TRUE(run_features(comm(), job(path, 2), false).cache_hit);
  // Changed input: the same universe with another seed, features recomputed.
  spec.seed = 5;
  run_synth(comm(), spec, {"", path, 16, 4096});
  EXPECT_FALSE(run_features(comm(), job(path, 2), false).cache_hit);
}

}  // namespace
}  // namespace tickstream
