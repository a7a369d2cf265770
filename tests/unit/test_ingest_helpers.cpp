// Pure helpers of ingest: frequency inference and input listing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "store/ingest.hpp"

namespace tickstream {
namespace {

TEST(InferFrequency, FromBarSpacing) {
  const int64_t d = 86400;
  EXPECT_EQ(infer_frequency({0, d, 2 * d, 5 * d}), "1d");  // weekend gaps do not matter
  EXPECT_EQ(infer_frequency({0, 7 * d, 14 * d}), "1w");
  EXPECT_EQ(infer_frequency({0, 31 * d, 59 * d, 90 * d}), "1mo");
  EXPECT_EQ(infer_frequency({52200, 52260, 52320, 52200 + d}), "1min");
  EXPECT_EQ(infer_frequency({52200, 52500, 52800}), "5min");
  EXPECT_EQ(infer_frequency({3600, 7200, 14400}), "1h");
  EXPECT_EQ(infer_frequency({0}), "1d");
  EXPECT_EQ(infer_frequency({}), "1d");
}

TEST(ListInputs, ExpandsDirectoriesSortedAndRejectsMissing) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "ts_list_inputs";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* name : {"b.csv", "a.csv", "c.txt", "notes.md", "synth.json"}) std::ofstream(dir / name) << "x";
  const auto files = list_inputs({dir.string()});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(fs::path(files[0].path).filename(), "a.csv");
  EXPECT_EQ(fs::path(files[2].path).filename(), "c.txt");
  EXPECT_EQ(files[0].bytes, 1);
  EXPECT_THROW(list_inputs({(dir / "missing.csv").string()}), InputError);
  EXPECT_THROW(list_inputs({}), InputError);
  fs::create_directories(dir / "empty");
  EXPECT_THROW(list_inputs({(dir / "empty").string()}), InputError);
}

}  // namespace
}  // namespace tickstream
