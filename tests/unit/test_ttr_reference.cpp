// The feature definitions against R's TTR itself (tests/ttr/ttr_reference.R), reference and kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "features/kernels.hpp"
#include "features/reference.hpp"

namespace tickstream {
namespace {

using Table = std::map<std::string, std::vector<double>>;

// The CSV the R script writes: a header, then numbers or NA.
Table read_table(const std::string& path) {
  std::ifstream in(path);
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> names;
  for (std::istringstream h(line); std::getline(h, cell, ',');) names.push_back(cell);
  Table t;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    for (const auto& name : names) {
      std::getline(row, cell, ',');
      t[name].push_back(cell == "NA" ? std::nan("") : std::stod(cell));
    }
  }
  return t;
}

Table run_ttr() {
  const std::string out = ::testing::TempDir() + "/ttr_reference.csv";
  const std::string cmd = "Rscript " + std::string(TICKSTREAM_SOURCE_DIR) + "/tests/ttr/ttr_reference.R " + out;
  if (std::system(cmd.c_str()) != 0) return {};
  return read_table(out);
}

bool close_enough(double ours, double ttr) {
  if (std::isnan(ttr)) return std::isnan(ours);
  return std::fabs(ours - ttr) <= 1e-9 * std::max(std::fabs(ttr), 1e-3);
}

TEST(TtrReference, EveryCitedIndicatorMatchesTtrTo1e9) {
  if (std::system("Rscript -e 'suppressPackageStartupMessages(library(TTR))' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "R with TTR is not installed (launch/install-deps.sh installs r-cran-ttr)";
  Table t = run_ttr();
  ASSERT_FALSE(t.empty()) << "the R script failed";
  const int64_t n = static_cast<int64_t>(t["close"].size());
  RawBlock b;
  b.resize(0, 1, n, false);
  b.open = t["open"], b.high = t["high"], b.low = t["low"], b.close = t["close"], b.volume = t["volume"];
  std::fill(b.valid.begin(), b.valid.end(), 1);
  std::vector<double> ref(static_cast<size_t>(n * kFeatureCount));
  reference_features({b.open.data(), b.high.data(), b.low.data(), b.close.data(), b.volume.data(), nullptr,
                      b.valid.data(), n}, ref.data());
  ensure_kokkos();
  Cube<double> k("k", 1, n, kFeatureCount);
  Matrix<uint8_t> v("v", 1, n);
  compute_features<double>(to_device(b), k, v);
  const auto kh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k);
  int checked = 0;
  for (int64_t j = 0; j < kFeatureCount; ++j) {
    const auto col = t.find(kFeatureNames[j]);
    if (col == t.end()) continue;  // TTR has no such indicator (gap, range_rel, volume_z_20, obv_rel_20)
    ++checked;
    for (int64_t s = 0; s < n; ++s) {
      // TTR starts every series at the first bar; a value TTR has must be ours too, and vice versa.
      ASSERT_TRUE(close_enough(ref[s * kFeatureCount + j], col->second[s]))
          << kFeatureNames[j] << " bar " << s << ": reference " << ref[s * kFeatureCount + j] << ", TTR " << col->second[s];
      ASSERT_TRUE(close_enough(kh(0, s, j), col->second[s]))
          << kFeatureNames[j] << " bar " << s << ": kernel " << kh(0, s, j) << ", TTR " << col->second[s];
    }
  }
  EXPECT_EQ(checked, 16);
}

}  // namespace
}  // namespace tickstream
