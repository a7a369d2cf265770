// Validation metrics against hand-computed cases; progress line and metrics log format and errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "train/metrics.hpp"
#include "train/metrics_log.hpp"
#include "common/temp_dir_test.hpp"

namespace tickstream {
namespace {

namespace fs = std::filesystem;
constexpr double kTol = 1e-12;
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

// Appends one date's samples (prob_up 0.5: irrelevant to the correlations).
void add_date(std::vector<EvalSample>& out, int32_t date, const std::vector<float>& pred,
              const std::vector<float>& label) {
  ASSERT_EQ(pred.size(), label.size());
  for (size_t i = 0; i < pred.size(); ++i) out.push_back({date, pred[i], label[i], 0.5f});
}

// `dates` dates of `per_date` samples with labels on a coarse grid (so there are ties).
std::vector<EvalSample> random_samples(int dates, int per_date, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<EvalSample> out;
  for (int d = 0; d < dates; ++d) {
    for (int i = 0; i < per_date; ++i) {
      const float label = static_cast<float>(static_cast<int>(rng() % 21) - 10) * 0.01f;
      const float noise = static_cast<float>(static_cast<int>(rng() % 7) - 3) * 0.004f;
      const float prob = static_cast<float>(rng() % 5) * 0.25f;
      out.push_back({d * 3 + 7, label + noise, label, prob});
    }
  }
  return out;
}

uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

void expect_bitwise_equal(const EvalMetrics& a, const EvalMetrics& b) {
  EXPECT_EQ(bits(a.mse), bits(b.mse)) << a.mse << " vs " << b.mse;
  EXPECT_EQ(bits(a.dir_acc), bits(b.dir_acc)) << a.dir_acc << " vs " << b.dir_acc;
  EXPECT_EQ(bits(a.ic), bits(b.ic)) << a.ic << " vs " << b.ic;
  EXPECT_EQ(bits(a.rank_ic), bits(b.rank_ic)) << a.rank_ic << " vs " << b.rank_ic;
  EXPECT_EQ(bits(a.icir), bits(b.icir)) << a.icir << " vs " << b.icir;
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.dates, b.dates);
}

TEST(Metrics, PerfectPredictionHasIcOne) {
  auto samples = random_samples(4, 20, 1);
  for (auto& s : samples) s.pred = s.label;
  const EvalMetrics m = compute_metrics(samples);
  EXPECT_EQ(m.samples, 80);
  EXPECT_EQ(m.dates, 4);
  EXPECT_EQ(m.mse, 0.0);
  EXPECT_DOUBLE_EQ(m.ic, 1.0);
  EXPECT_DOUBLE_EQ(m.rank_ic, 1.0);
  EXPECT_TRUE(std::isnan(m.icir)) << "every daily rank IC is 1: zero spread, ICIR undefined";
}

TEST(Metrics, NegatedPredictionHasIcMinusOne) {
  auto samples = random_samples(4, 20, 2);
  for (auto& s : samples) s.pred = -s.label;
  const EvalMetrics m = compute_metrics(samples);
  EXPECT_EQ(m.dates, 4);
  EXPECT_DOUBLE_EQ(m.ic, -1.0);
  EXPECT_DOUBLE_EQ(m.rank_ic, -1.0);
}

// Three usable dates, by hand (means, then sums of products of deviations):
//  date 10: pred 1 2 3 4 5, label 2 1 4 3 5. dx = -2 -1 0 1 2, dy = -1 -2 1 0 2: sxy 8, sxx 10,
//    syy 10 -> Pearson 0.8; ranks equal the values -> Spearman 0.8.
//  date 11: pred 1 2 2 4 11, label 1 2 3 4 5. Pearson: mean 4, dx = -3 -2 -2 0 7, dy = -2 -1 0 1 2:
//    sxy 22, sxx 66, syy 10 -> 22/sqrt(660) = sqrt(11/15) = 0.856349. Spearman: pred ranks
//    1 2.5 2.5 4 5 (tie), dx = -2 -.5 -.5 1 2: sxy 9.5, sxx 9.5, syy 10 -> sqrt(0.95) = 0.974679.
//  date 12: pred 5 4 3 2 1, label -1 -1 0 1 2. Pearson: label mean 0.2, dy = -1.2 -1.2 -.2 .8 1.8:
//    sxy -8, sxx 10, syy 6.8 -> -8/sqrt(68) = -0.970143. Spearman: label ranks 1.5 1.5 3 4 5 (tie),
//    dy = -1.5 -1.5 0 1 2: sxy -9.5, sxx 10, syy 9.5 -> -sqrt(0.95).
// Rank ICs 0.8, s, -s (s = sqrt(0.95)): mean 4/15; squared deviations (8/15)^2 + (s - 4/15)^2 +
// (s + 4/15)^2 = 96/225 + 1.9 = 349/150, variance (ddof 1) 349/300 -> ICIR (4/15)/sqrt(349/300)
// = 0.247239.
std::vector<EvalSample> hand_example() {
  std::vector<EvalSample> s;
  add_date(s, 10, {1, 2, 3, 4, 5}, {2, 1, 4, 3, 5});
  add_date(s, 11, {1, 2, 2, 4, 11}, {1, 2, 3, 4, 5});
  add_date(s, 12, {5, 4, 3, 2, 1}, {-1, -1, 0, 1, 2});
  return s;
}

TEST(Metrics, HandComputedPearsonSpearmanIcir) {
  const EvalMetrics m = compute_metrics(hand_example());
  EXPECT_EQ(m.samples, 15);
  EXPECT_EQ(m.dates, 3);
  EXPECT_NEAR(m.ic, (0.8 + std::sqrt(11.0 / 15.0) - 8.0 / std::sqrt(68.0)) / 3.0, kTol);
  EXPECT_NEAR(m.ic, 0.2287354461, 1e-9);
  EXPECT_NEAR(m.rank_ic, 4.0 / 15.0, kTol);
  EXPECT_NEAR(m.icir, (4.0 / 15.0) / std::sqrt(349.0 / 300.0), kTol);
  EXPECT_NEAR(m.icir, 0.2472388109, 1e-9);
}

TEST(Metrics, UnusableDatesAreSkipped) {
  auto s = hand_example();
  add_date(s, 20, {1, 2, 3, 4}, {4, 3, 2, 1});                  // 4 < kMinSamplesPerDate
  add_date(s, 21, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, {1, 2, 3, 4, 5});  // constant pred
  add_date(s, 22, {1, 2, 3, 4, 5}, {-1, -1, -1, -1, -1});       // constant label
  ASSERT_EQ(kMinSamplesPerDate, 5);
  const EvalMetrics m = compute_metrics(s);
  const EvalMetrics base = compute_metrics(hand_example());
  EXPECT_EQ(m.samples, 29);
  EXPECT_EQ(m.dates, 3);
  EXPECT_EQ(m.ic, base.ic);
  EXPECT_EQ(m.rank_ic, base.rank_ic);
  EXPECT_EQ(m.icir, base.icir);
  EXPECT_NE(m.mse, base.mse) << "skipped dates still count in the MSE";
}

TEST(Metrics, TiesGetAverageRanks) {
  // pred 1 1 1 1 2, label 1 2 3 4 4: ties on both sides.
  // Spearman: pred ranks 2.5 2.5 2.5 2.5 5, label ranks 1 2 3 4.5 4.5 (both mean 3);
  //   dx = -.5 -.5 -.5 -.5 2, dy = -2 -1 0 1.5 1.5: sxy 1+.5+0-.75+3 = 3.75, sxx 5, syy 9.5
  //   -> 3.75/sqrt(47.5) = 0.544107.
  // Pearson: means 1.2 and 2.8; dx = -.2 -.2 -.2 -.2 .8, dy = -1.8 -.8 .2 1.2 1.2:
  //   sxy .36+.16-.04-.24+.96 = 1.2, sxx 0.8, syy 6.8 -> 1.2/sqrt(5.44) = 0.514496.
  std::vector<EvalSample> s;
  add_date(s, 0, {1, 1, 1, 1, 2}, {1, 2, 3, 4, 4});
  const EvalMetrics m = compute_metrics(s);
  EXPECT_EQ(m.dates, 1);
  EXPECT_NEAR(m.rank_ic, 3.75 / std::sqrt(47.5), kTol);
  EXPECT_NEAR(m.ic, 1.2 / std::sqrt(5.44), kTol);
  EXPECT_TRUE(std::isnan(m.icir)) << "one date: ICIR undefined";
}

TEST(Metrics, MseAndDirectionalAccuracyByHand) {
  // (pred, label, prob_up): up/up right; down/up wrong; up/label 0 (= down) wrong;
  // prob 0.5 (= down)/down right; down/down right -> 3/5. Squared errors 1/16, 1, 0, 1/4, 4:
  // sum 5.3125, mean 1.0625 (all exact in binary).
  const std::vector<EvalSample> s = {{0, 0.5f, 0.25f, 0.75f},
                                     {0, -0.5f, 0.5f, 0.25f},
                                     {1, 0.0f, 0.0f, 0.75f},
                                     {1, 0.25f, -0.25f, 0.5f},
                                     {2, 1.0f, -1.0f, 0.25f}};
  const EvalMetrics m = compute_metrics(s);
  EXPECT_EQ(m.mse, 1.0625);
  EXPECT_DOUBLE_EQ(m.dir_acc, 0.6);
  EXPECT_EQ(m.samples, 5);
  EXPECT_EQ(m.dates, 0);
  EXPECT_TRUE(std::isnan(m.ic) && std::isnan(m.rank_ic) && std::isnan(m.icir));
}

TEST(Metrics, EmptyInputIsUndefined) {
  const EvalMetrics m = compute_metrics({});
  EXPECT_EQ(m.samples, 0);
  EXPECT_EQ(m.dates, 0);
  for (double v : {m.mse, m.dir_acc, m.ic, m.rank_ic, m.icir}) EXPECT_TRUE(std::isnan(v)) << v;
}

TEST(Metrics, NonFinitePredictionShowsAsNaN) {
  auto s = hand_example();
  s[7].pred = kNaNf;  // date 11
  const EvalMetrics m = compute_metrics(s);
  EXPECT_EQ(m.dates, 3);
  EXPECT_TRUE(std::isnan(m.mse));
  EXPECT_TRUE(std::isnan(m.ic));
  EXPECT_TRUE(std::isnan(m.rank_ic));
}

TEST(Metrics, OrderIndependentBitwise) {
  auto samples = random_samples(30, 41, 3);
  samples.push_back(samples[5]);  // an exact duplicate
  samples.push_back({samples[6].date, samples[6].pred, samples[6].label, 0.9f});  // prob_up differs
  const EvalMetrics ref = compute_metrics(samples);
  ASSERT_TRUE(std::isfinite(ref.ic) && std::isfinite(ref.icir)) << ref.ic << " " << ref.icir;
  EXPECT_EQ(ref.dates, 30);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    std::mt19937_64 rng(seed);
    std::shuffle(samples.begin(), samples.end(), rng);
    expect_bitwise_equal(compute_metrics(samples), ref);
  }
  std::reverse(samples.begin(), samples.end());
  expect_bitwise_equal(compute_metrics(samples), ref);
}

TEST(Progress, FormatsOneLine) {
  ProgressRecord r{120, 1500, 1, 0.0123, 3e-4, 1234.4, 10.0};
  // 120 steps in 10 s, 1380 to go: 115 s.
  EXPECT_EQ(format_progress(r),
            "step 120/1500  epoch 1  loss 0.0123  lr 3.0e-04  1234 samples/s  ETA 1m55s");
  r.first_step = 100;  // resumed at 100: 20 steps in 10 s, 1380 to go: 690 s
  EXPECT_NE(format_progress(r).find("ETA 11m30s"), std::string::npos) << format_progress(r);
  r.step = r.first_step;
  EXPECT_NE(format_progress(r).find("ETA ?"), std::string::npos) << format_progress(r);
  EXPECT_EQ(format_duration(0.4), "0s");
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(3725), "1h02m05s");
  EXPECT_EQ(format_duration(-1), "?");
}

class MetricsLogTest : public testing::TempDirTest {
 protected:

  static std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

};

nlohmann::json record_at(int64_t step) {
  ProgressRecord p{step, 100, 0, 0.5, 1e-3, 1000.0, 2.5};
  EvalMetrics m{0.01, 0.55, 0.05, 0.06, 0.7, 1000, 10};
  return metrics_record(p, m, 0.02);
}

TEST_F(MetricsLogTest, WritesJsonLinesWithExactlyTheKeys) {
  const std::string path = dir_ + "/a/b/metrics.jsonl";  // parents created
  {
    MetricsLog log(path, false);
    log.write(record_at(10));
    log.write(record_at(20));
  }
  {
    MetricsLog log(path, true);  // resume: appends
    log.write(record_at(30));
    log.close();
  }
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 3u);
  const std::set<std::string> want = {"step", "epoch", "loss", "lr", "samples_per_s", "val_loss",
                                      "val_dir_acc", "val_ic", "val_rank_ic", "val_icir", "wall_s"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    std::set<std::string> keys;
    for (const auto& item : j.items()) keys.insert(item.key());
    EXPECT_EQ(keys, want) << lines[i];
    EXPECT_EQ(j["step"].get<int64_t>(), 10 * static_cast<int64_t>(i + 1));
  }
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["val_ic"].get<double>(), 0.05);
  EXPECT_EQ(j["val_rank_ic"].get<double>(), 0.06);
  EXPECT_EQ(j["val_loss"].get<double>(), 0.02);
  EXPECT_EQ(j["wall_s"].get<double>(), 2.5);

  MetricsLog fresh(path, false);  // not resuming: truncates
  fresh.write(record_at(40));
  fresh.close();
  EXPECT_EQ(lines_of(path).size(), 1u);
}

TEST_F(MetricsLogTest, UndefinedValuesAreNull) {
  const auto j = metrics_record(ProgressRecord{}, compute_metrics({}),
                                std::numeric_limits<double>::quiet_NaN());
  for (const char* key : {"val_loss", "val_dir_acc", "val_ic", "val_rank_ic", "val_icir"})
    EXPECT_TRUE(j[key].is_null()) << key << ": " << j.dump();
  EXPECT_EQ(j["step"].get<int64_t>(), 0);
}

TEST_F(MetricsLogTest, AppendDropsATornLastLine) {
  const std::string path = dir_ + "/metrics.jsonl";
  std::ofstream(path) << record_at(10).dump() << "\n{\"step\": 2";
  MetricsLog log(path, true);
  log.write(record_at(20));
  log.close();
  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["step"].get<int64_t>(), 20);
}

TEST_F(MetricsLogTest, UnwritablePathIsInputError) {
  std::ofstream(dir_ + "/file") << "x";
  for (const std::string& path : {dir_ + "/file/sub/metrics.jsonl", dir_}) {
    try {
      MetricsLog log(path, false);
      ADD_FAILURE() << "no error for " << path;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  try {
    MetricsLog log(dir_, true);
    ADD_FAILURE() << "no error for a directory";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tickstream
