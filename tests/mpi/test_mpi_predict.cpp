// Prediction at 1-3 ranks: the same rows, skips and cross-sectional ranks as one rank scoring
// every ticker, and as each ticker scored alone (batch of one); identical inputs bit for bit.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "comm/collectives.hpp"
#include "core/config.hpp"
#include "features/pipeline.hpp"
#include "mpi/mpi_test.hpp"
#include "bench/bench_predict.hpp"
#include "predict/cross_section.hpp"
#include "predict/predictor.hpp"
#include "predict/scoring_plan.hpp"
#include "store/synth_run.hpp"

namespace tickstream {
namespace {

using MpiPredict = testing::MpiTest;

constexpr int64_t kTickers = 37;
constexpr int64_t kTileRows = 8;  // global prediction tiles of 8 tickers: 5 tiles, the last of 5

Config job(const std::string& dir) {
  const std::string store = dir + "/s.h5";
  SynthSpec spec;
  spec.tickers = kTickers, spec.days = 320, spec.seed = 11;
  run_synth(tickstream::testing::world(), spec, {"", store, 16, 4096});
  Config c = parse_config(fmt::format("[data]\nstore = \"{}\"\ntrain_start = 2010-01-04\ntrain_end = 2010-12-31\n"
                                      "[model]\nkind = \"gpt\"\nd_model = 16\nn_layers = 1\nn_heads = 2\nseq_len = 16\n"
                                      "[train]\nseed = 3\n[loader]\nchunk_tickers = 8\n", store), "job.toml");
  run_features(tickstream::testing::world(), c, false);
  return c;
}

// Rank 0 saves the model initialized from the seed, with the store's normalization statistics.
std::string initial_checkpoint(const Config& c, const FeatureStoreInfo& info, const std::string& dir) {
  std::string path;
  if (tickstream::testing::world().rank() == 0) path = save_initial_checkpoint(c, info, dir, 0.02).path;
  return comm::broadcast_string(tickstream::testing::world(), path, 0);
}

std::string line(const Prediction& p) {
  return fmt::format("{},{},{},{:.9g},{:.9g},{:.9g}", p.ticker, p.asof, p.rank, p.pred_return, p.prob_up, p.confidence);
}

// Every rank's rows, in rank order (= (as-of, ticker) order per date), as text.
std::vector<std::string> all_rows(const PredictionSet& s) {
  std::vector<std::string> mine;
  for (const Prediction& p : s.rows) mine.push_back(line(p));
  for (const Skipped& k : s.skipped) mine.push_back(fmt::format("skip {},{},{}", k.ticker, k.asof, k.reason));
  return comm::allgather_strings(tickstream::testing::world(), mine);
}

// "ticker,asof,rank" must match exactly; the three floats within float32 rounding of a different
// batch composition (BLAS kernels differ in the last bits with the row's position in a batch).
void expect_same(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<std::string> a, b;
    for (auto [text, out] : {std::pair{&got[i], &a}, std::pair{&want[i], &b}}) {
      std::stringstream ss(*text);
      for (std::string f; std::getline(ss, f, ',');) out->push_back(f);
    }
    ASSERT_EQ(a.size(), b.size()) << got[i] << " vs " << want[i];
    const size_t exact = a[0].rfind("skip", 0) == 0 ? a.size() : 3;
    for (size_t k = 0; k < a.size(); ++k) {
      if (k < exact) {
        EXPECT_EQ(a[k], b[k]) << "row " << i << ": " << got[i] << " vs " << want[i];
      } else {
        // pred_return: relative; probability and confidence (in [0, 1]): a few float32 ulps of 0.5.
        const double x = std::stod(a[k]), y = std::stod(b[k]);
        const double tolerance = k == 3 ? 1e-5 * std::max(std::abs(x), std::abs(y)) + 1e-9 : 1e-6;
        EXPECT_LE(std::abs(x - y), tolerance) << got[i] << " vs " << want[i];
      }
    }
  }
}

PredictionSet score(Predictor& p, const FeatureStoreInfo& info, std::pair<int64_t, int64_t> rows,
                    const std::vector<int64_t>& asof, comm::Communicator& comm) {
  ScoreTimings t;
  ScoreOptions o;
  o.max_rows = kTileRows, o.prefetch = 1;
  PredictionSet s = p.score(info, rows, asof, o, t);
  assign_cross_sectional_ranks(comm, s.rows);
  return s;
}

TEST_F(MpiPredict, SameAtEveryRankCountAsOneRankAndAsEachTickerAlone) {
  const Config c = job(temp_dir());
  const FeatureStoreInfo info = read_feature_info(StoreReader(c.data.store));
  const std::string ckpt = initial_checkpoint(c, info, temp_dir() + "/ckpt");
  const auto bars = asof_bars(info.time, info.time[200], info.time[230], "--from/--to");
  Predictor batched(ckpt, info, torch::kCPU, 64);

  const auto rows = ticker_shard(kTickers, size(), rank(), kTileRows);
  const std::vector<std::string> sharded = all_rows(score(batched, info, rows, bars, tickstream::testing::world()));

  // One rank scoring everything (each rank computes it alone).
  const PredictionSet whole = score(batched, info, {0, kTickers}, bars, tickstream::testing::self());
  std::vector<std::string> reference;
  for (const Prediction& p : whole.rows) reference.push_back(line(p));
  for (const Skipped& k : whole.skipped) reference.push_back(fmt::format("skip {},{},{}", k.ticker, k.asof, k.reason));
  ASSERT_FALSE(whole.rows.empty());
  ASSERT_FALSE(whole.skipped.empty()) << "the synthetic universe should have delisted or late tickers";
  // Rank order concatenates per-rank (as-of, ticker) lists: compare as sorted sets of lines. Ranks
  // own whole global tiles and batches never span tiles, so every window is scored in the same
  // batch as in the one-rank run: bit-identical (every printed digit).
  std::vector<std::string> got = sharded, want = reference;
  std::sort(got.begin(), got.end()), std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);

  // Each ticker alone in a batch of one: the same predictions (ranks come from the whole set).
  Predictor alone(ckpt, info, torch::kCPU, 1);
  for (int64_t i = 0; i < kTickers; ++i) {
    const PredictionSet one = score(alone, info, {i, i + 1}, bars, tickstream::testing::self());
    for (const Prediction& p : one.rows) {
      const auto it = std::find_if(whole.rows.begin(), whole.rows.end(),
                                   [&](const Prediction& q) { return q.ticker == p.ticker && q.asof == p.asof; });
      ASSERT_NE(it, whole.rows.end()) << p.ticker << " scored alone but not with the others";
      Prediction q = *it;
      q.rank = 1;  // alone, every ticker ranks first
      expect_same({line(p)}, {line(q)});
    }
    EXPECT_EQ(one.rows.size() + one.skipped.size(), bars.size());
  }
}

TEST_F(MpiPredict, CrossSectionalRanksArePositionsByDescendingPrediction) {
  // Rank r holds tickers with predictions r, r + 0.5 at as-of 1 and -r at as-of 2.
  std::vector<Prediction> mine{{"a", 1, static_cast<float>(rank()), 0, 0, 0, ""},
                               {"b", 1, static_cast<float>(rank()) + 0.5f, 0, 0, 0, ""},
                               {"c", 2, -static_cast<float>(rank()), 0, 0, 0, ""}};
  assign_cross_sectional_ranks(tickstream::testing::world(), mine);
  const int n = size();
  EXPECT_EQ(mine[1].rank, 2 * (n - 1 - rank()) + 1);  // r + 0.5 beats r and everything below
  EXPECT_EQ(mine[0].rank, 2 * (n - 1 - rank()) + 2);
  EXPECT_EQ(mine[2].rank, rank() + 1);
}

}  // namespace
}  // namespace tickstream
