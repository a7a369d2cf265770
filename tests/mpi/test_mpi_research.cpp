// The research loop across ranks (1, 2, 3): a fold's statistics are the features stage's over the
// same window, bit for bit, at any rank count; RankContext groups split and restore the job's communicator.
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "comm/collectives.hpp"
#include "core/config.hpp"
#include "data/feature_store.hpp"
#include "features/pipeline.hpp"
#include "mpi/mpi_test.hpp"
#include "research/fold_data.hpp"
#include "runtime/rank_context.hpp"
#include "store/store_reader.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace {

using MpiResearch = testing::MpiTest;

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST_F(MpiResearch, FoldStatisticsAreTheFeaturesStagesOverTheSameWindow) {
  const std::string store = temp_dir() + "/s.h5";
  SynthSpec spec;
  spec.tickers = 37, spec.days = 400, spec.seed = 3;
  run_synth(comm(), spec, {"", store, 16, 4096});
  const Config c = parse_config(fmt::format("[data]\nstore = \"{}\"\ntrain_start = 2010-03-01\ntrain_end = 2010-12-31\n",
                                            store), "job.toml");
  run_features(comm(), c, false);
  const FeatureStoreInfo info = read_feature_info(StoreReader(store));
  const BarRange window = period_bars(info.time, c.data.train_start, c.data.train_end);
  const NormalizationStats fold = fit_window_stats(comm(), store, window);
  EXPECT_TRUE(bitwise_equal(fold.mean, info.mean));  // the same rows, partition and merge order
  EXPECT_TRUE(bitwise_equal(fold.std, info.std));
  // A later window has other statistics: nothing after a fold's window enters its own.
  const NormalizationStats later = fit_window_stats(comm(), store, BarRange{window.last + 1, window.last + 100});
  EXPECT_FALSE(bitwise_equal(later.mean, info.mean));
  // One rank alone merges the same fixed blocks in the same order: the same bytes.
  if (rank() == 0) {
    const NormalizationStats serial = fit_window_stats(testing::self(), store, window);
    EXPECT_TRUE(bitwise_equal(serial.mean, fold.mean));
    EXPECT_TRUE(bitwise_equal(serial.std, fold.std));
  }
}

TEST_F(MpiResearch, GroupsSplitTheJobAndRestoreIt) {
  int argc = 1;
  char name[] = "test";
  char* args[] = {name, nullptr};
  char** argv = args;
  RankContext ctx(argc, argv, {});
  const int world_rank = ctx.rank(), world_size = ctx.size();
  ASSERT_EQ(world_size, size());
  {
    const auto group = ctx.enter_group(world_rank % 2);
    const int expected = (world_size + 1 - world_rank % 2) / 2;  // ranks with the same parity
    EXPECT_EQ(ctx.size(), expected);
    EXPECT_EQ(ctx.rank(), world_rank / 2);
    EXPECT_EQ(ctx.is_root(), world_rank < 2);
    // The sum of the group's world ranks: 0 + 2 + ... or 1 + 3 + ...
    int64_t want = 0;
    for (int r = world_rank % 2; r < world_size; r += 2) want += r;
    EXPECT_EQ(comm::allreduce<int64_t>(ctx.comm(), world_rank, comm::ReduceOp::sum), want);
    auto more = ctx.make_communicator({});
    EXPECT_EQ(more->size(), expected);
  }
  EXPECT_EQ(ctx.size(), world_size);
  EXPECT_EQ(ctx.rank(), world_rank);
  EXPECT_EQ(comm::allreduce<int64_t>(ctx.comm(), 1, comm::ReduceOp::sum), world_size);
}

}  // namespace
}  // namespace tickstream
