// `tickstream bench train`: training samples/s at 1..K ranks, scaling, communication wait, vs GEMM.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"

namespace tickstream {

struct BenchTrainOptions {
  int64_t tickers = 500;  // the quickstart universe: 500 tickers x 1,260 daily bars
  int64_t days = 1260;
  int64_t steps = 100;    // timed optimizer steps per run
  int64_t warmup = 10;    // untimed steps before them
  int ranks_max = 2;      // runs at 1..ranks_max ranks, one thread each
  int repeat = 3;         // the rank counts alternate this many times
  std::string model_config;  // [data] periods, [model], [train] of this config (the quickstart's)
};

// Single process: prepares a synthetic store with features once, then alternates
// `mpirun -np k tickstream bench train-worker` runs (TICKSTREAM_THREADS=1). Verifies that every
// run trained the requested steps with identical parameters on all ranks and a finite loss, and
// that repeats at one rank count end with the same parameters, before it reports. Each run also
// times torch::mm on all its ranks at once: the model's FLOP/s is reported against the 1-rank
// GEMM, and the scaling efficiency against the GEMM's own (what the machine allows).
nlohmann::json bench_train(RankContext& ctx, const BenchTrainOptions& options);

// Registers `bench train` and the hidden `bench train-worker` (one run, in the ML library).
void add_bench_train(CLI::App& bench, CommandRunner& runner);

}  // namespace tickstream
