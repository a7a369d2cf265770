// `tickstream bench features`: cold features at several rank counts, cache hit, kernel bandwidth.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace tickstream {

struct BenchFeaturesOptions {
  int64_t tickers = 800;   // Qlib's data-server benchmark: 800 stocks, 2007-2020
  int64_t days = 3500;
  std::vector<int> ranks{1, 2};
  int repeat = 3;
};

// Single process; launches mpirun. Verifies that every rank count wrote identical features and
// that the kernels match the serial reference on sampled tickers before reporting.
nlohmann::json bench_features(const BenchFeaturesOptions& options);

}  // namespace tickstream
