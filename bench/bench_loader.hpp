// `tickstream bench loader`: loader MB/s vs plain H5Dread, prefetch overlap, batch assembly time.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "app/commands.hpp"

namespace tickstream {

struct BenchLoaderOptions {
  int64_t tickers = 2000;     // the store: 2,000 tickers x 5,000 daily bars x all features
  int64_t bars = 5000;
  int64_t tile_tickers = 256;  // [loader] chunk_tickers: 16 store chunks (16 tickers each)
  int64_t tile_bars = 1024;    // [loader] chunk_bars: 2 store chunks (512 bars each)
  int64_t seq_len = 64;
  int64_t batch = 256;
  int64_t batches = 200;       // assembly: timed batches
  int repeat = 5;              // raw: loader and reference alternate this many times
  std::string keep_store;      // directory to build the store in (reused if it is there) and keep
};

// Single process (no MPI ranks of its own, no libtorch). Builds a synthetic store with features
// once, then measures (a) the loader's MB/s against one H5Dread per dataset per tile into
// preallocated buffers, alternated in one run, (b) wall time and stall fraction with a simulated
// compute step at prefetch 0 and 2, (c) CPU window-gather time per batch. Checks the bytes the
// loader delivers against the reference's (per-tile checksums) and the gathered batches against a
// direct recomputation before it reports.
nlohmann::json bench_loader(RankContext& ctx, const BenchLoaderOptions& options);

// Registers `bench loader`.
void add_bench_loader(CLI::App& bench, CommandRunner& runner);

}  // namespace tickstream
