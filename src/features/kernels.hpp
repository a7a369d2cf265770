// Kokkos feature and label kernels (docs/features.md): one ticker's series per work item.
#pragma once

#include <Kokkos_Core.hpp>

#include <vector>

#include "core/host_buffer.hpp"
#include "features/feature_set.hpp"
#include "store/raw_block.hpp"

namespace tickstream {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;
template <typename T>
using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, MemSpace>;  // [tickers, bars]
template <typename T>
using Cube = Kokkos::View<T***, Kokkos::LayoutRight, MemSpace>;  // [tickers, bars, columns]

// /raw of a block of tickers in the execution space's memory. adj_close has extent 0 when the
// store has none.
struct RawViews {
  Matrix<const double> open, high, low, close, volume, adj_close;
  Matrix<const uint8_t> valid;
};

// Copies a host RawBlock into the execution space (deep_copy at the edge; a no-op view on host).
RawViews to_device(const RawBlock& block);

// Features [N, T, kFeatureCount] (NaN where undefined) and valid [N, T] (1 where all finite).
// Gaps::skip: over each ticker's own valid bars; strict: restarted after every missing bar.
// `threads` > 1: with the Serial backend the tickers are split over that many host threads
// (each ticker is one independent work item); other backends parallelize on their own.
template <typename Scalar>
void compute_features(const RawViews& raw, const Cube<Scalar>& features, const Matrix<uint8_t>& valid,
                      Gaps gaps = Gaps::strict, int threads = 1);

// Labels [N, T, 2]: fwd_logret_<H>, fwd_up_<H> at valid bars. Gaps::strict: from bar t to bar
// t+H, valid where bars t..t+H are all valid; skip: from bar t to the ticker's H-th valid bar
// after t, valid where it exists.
template <typename Scalar>
void compute_labels(const RawViews& raw, int64_t horizon, const Cube<Scalar>& labels, const Matrix<uint8_t>& valid,
                    Gaps gaps = Gaps::strict, int threads = 1);

// Host convenience: features and labels of a RawBlock as row-major float arrays.
struct FeatureBlock {
  int64_t width = kFeatureCount;  // features per row: the default set plus any timeframe columns
  // Uninitialized on resize: the kernels write every element (their threads touch the pages).
  HostBuffer<float> features;  // [rows, bars, width]
  HostBuffer<uint8_t> feature_valid;
  HostBuffer<float> labels;  // [rows, bars, kLabelCount]
  HostBuffer<uint8_t> label_valid;
};
// Seconds of compute_feature_block's steps (host -> execution space copies, the two kernels, back).
struct FeatureTimings {
  double upload_s = 0, features_s = 0, labels_s = 0, download_s = 0;
};
// Where the execution space can read host memory (Serial, OpenMP) the kernels read the block's
// vectors and write the result's in place: no copies.
FeatureBlock compute_feature_block(const RawBlock& block, int64_t horizon, Gaps gaps = Gaps::strict,
                                   FeatureTimings* timings = nullptr, int threads = 1);
// The same into `out`, whose buffers are reused (batch after batch: no fresh pages).
void compute_feature_block_into(const RawBlock& block, int64_t horizon, Gaps gaps, FeatureBlock& out,
                                FeatureTimings* timings = nullptr, int threads = 1);

// Kokkos must be initialized before any kernel runs; this initializes it once if needed (tests,
// tools) and finalizes it at exit. RankContext does the same for the application.
void ensure_kokkos();

}  // namespace tickstream
