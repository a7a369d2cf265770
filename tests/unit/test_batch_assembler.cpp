// BatchAssembler (CPU): x is the closed-form normalized window of each (row, end), labels and the
// up flag come from the chunk's label cells, windows from several chunks land in order, and a
// batch over its capacity is refused.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "model/batch_assembler.hpp"

namespace tickstream {
namespace {

constexpr int64_t kRows = 3, kBars = 6, kF = 2, kSeq = 3;

// values[r, t, f] = 100 r + 10 t + f; labels (return, up) = (r + t / 10, t odd).
Chunk make_chunk(int64_t row_begin, int64_t bar0) {
  Chunk c;
  c.tile = Tile{row_begin, kRows, bar0 + kSeq - 1, kBars - kSeq + 1};
  c.bar0 = bar0, c.bars = kBars, c.features = kF, c.labels = 2;
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t t = 0; t < kBars; ++t) {
      for (int64_t f = 0; f < kF; ++f) c.values.push_back(static_cast<float>(100 * r + 10 * t + f));
      c.valid.push_back(1);
      c.label_values.push_back(static_cast<float>(r) + static_cast<float>(t) / 10.0f);
      c.label_values.push_back(t % 2 == 1 ? 1.0f : 0.0f);
      c.label_valid.push_back(1);
    }
  return c;
}

TEST(BatchAssembler, GathersNormalizedWindowsAndLabelsInOrder) {
  const Normalizer norm({1.0, 2.0}, {2.0, 4.0});  // (x - mean) / std, clipped to [-10, 10]
  auto a = make_cpu_batch_assembler(norm, kSeq, kF, torch::kCPU);
  const auto first = std::make_shared<const Chunk>(make_chunk(10, 100));
  const auto second = std::make_shared<const Chunk>(make_chunk(20, 200));
  const std::vector<Window> w1{{11, 104}, {10, 102}}, w2{{22, 205}};
  a->begin(4, /*with_labels=*/true);
  a->add(first, w1.data(), 2);
  a->add(second, w2.data(), 1);
  EXPECT_EQ(a->size(), 3);
  const Batch b = a->finish();
  ASSERT_EQ(b.x.sizes(), (std::vector<int64_t>{3, kSeq, kF}));
  EXPECT_EQ(b.rows, (std::vector<int32_t>{11, 10, 22}));
  EXPECT_EQ(b.dates, (std::vector<int32_t>{104, 102, 205}));
  const std::vector<std::array<int64_t, 2>> cell{{1, 4}, {0, 2}, {2, 5}};  // (chunk row, chunk bar)
  for (int64_t i = 0; i < 3; ++i) {
    const auto [r, end] = cell[static_cast<size_t>(i)];
    for (int64_t k = 0; k < kSeq; ++k)
      for (int64_t f = 0; f < kF; ++f) {
        const double raw = 100.0 * r + 10.0 * (end - kSeq + 1 + k) + f;
        const double want = std::clamp((raw - (f == 0 ? 1.0 : 2.0)) / (f == 0 ? 2.0 : 4.0), -10.0, 10.0);
        EXPECT_FLOAT_EQ(b.x[i][k][f].item<float>(), static_cast<float>(want)) << i << " " << k << " " << f;
      }
    EXPECT_FLOAT_EQ(b.y_return[i].item<float>(), static_cast<float>(r) + static_cast<float>(end) / 10.0f);
    EXPECT_EQ(b.y_up[i].item<float>(), end % 2 == 1 ? 1.0f : 0.0f);
  }
}

TEST(BatchAssembler, WithoutLabelsAndOverCapacity) {
  const Normalizer norm({0.0, 0.0}, {100.0, 100.0});
  auto a = make_cpu_batch_assembler(norm, kSeq, kF, torch::kCPU);
  const auto c = std::make_shared<const Chunk>(make_chunk(0, 0));
  const std::vector<Window> w{{0, 2}, {1, 3}, {2, 4}};
  a->begin(2, /*with_labels=*/false);
  EXPECT_THROW(a->add(c, w.data(), 3), InternalError);
  a->begin(2, /*with_labels=*/false);
  a->add(c, w.data(), 2);
  const Batch b = a->finish();
  EXPECT_EQ(b.size(), 2);
  EXPECT_FALSE(b.y_return.defined());
  EXPECT_FLOAT_EQ(b.x[1][kSeq - 1][1].item<float>(), 1.31f);  // (100 row 1 + 10 bar 3 + feature 1) / 100
  EXPECT_EQ(a->device(), torch::Device(torch::kCPU));
}

}  // namespace
}  // namespace tickstream
