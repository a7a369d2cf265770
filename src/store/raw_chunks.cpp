// Sealed /raw chunks: Fletcher32 as HDF5 computes it, the chunk grid, wire blocks.
#include "store/raw_chunks.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/host_threads.hpp"
#include "store/h5.hpp"

namespace tickstream {

// HDF5's Fletcher32 keeps both sums below 2^32 by folding them ((x & 0xffff) + (x >> 16)) every
// 360 words and twice at the end. Folding keeps a sum congruent mod 65535 and never turns a
// positive sum into 0, so its result is the sum's residue mod 65535, written 65535 where the
// residue is 0 but the sum is not (any nonzero word), 0 where every word is 0. Here the sums are
// taken in blocks of 256 words, independently per word (sum1 += sum of w, sum2 += 256 * sum1 +
// sum of (256 - j) w_j), which the compiler vectorizes, and reduced mod 65535 per block: the same
// 32 bits (tests/unit/test_raw_chunks.cpp checks them against libhdf5's).
uint32_t fletcher32(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t words = bytes / 2;
  constexpr uint32_t kBlock = 256;  // (256 * 257 / 2) * 65535 < 2^32: the block sums fit 32 bits
  uint64_t sum1 = 0, sum2 = 0;      // mod 65535
  bool nonzero = false;
  size_t i = 0;
  for (; i + kBlock <= words; i += kBlock) {
    const uint8_t* w = p + 2 * i;
    uint32_t a = 0, b = 0;
    for (uint32_t j = 0; j < kBlock; ++j) {
      const uint32_t x = static_cast<uint32_t>(w[2 * j]) << 8 | w[2 * j + 1];
      a += x, b += (kBlock - j) * x;
    }
    sum2 = (sum2 + kBlock * sum1 + b) % 65535;
    sum1 = (sum1 + a) % 65535;
    nonzero = nonzero || a != 0;
  }
  const auto add = [&](uint32_t x) {
    sum1 = (sum1 + x) % 65535, sum2 = (sum2 + sum1) % 65535;
    nonzero = nonzero || x != 0;
  };
  for (; i < words; ++i) add(static_cast<uint32_t>(p[2 * i]) << 8 | p[2 * i + 1]);
  if (bytes % 2 != 0) add(static_cast<uint32_t>(p[bytes - 1]) << 8);
  const auto folded = [nonzero](uint64_t r) { return static_cast<uint32_t>(nonzero && r == 0 ? 65535 : r); };
  return folded(sum2) << 16 | folded(sum1);
}

ChunkGrid::ChunkGrid(int64_t n, int64_t t, int64_t chunk_tickers, int64_t chunk_bars)
    : tickers(n),
      bars(t),
      rows_per_chunk(std::max<int64_t>(1, std::min(chunk_tickers, n))),
      bars_per_chunk(std::max<int64_t>(1, std::min(chunk_bars, t))) {}

size_t ChunkBlock::chunk_count() const {
  const int64_t chunk_rows = (rows + grid.rows_per_chunk - 1) / grid.rows_per_chunk;
  return static_cast<size_t>(chunk_rows * grid.chunk_columns());
}

size_t ChunkBlock::stride() const {
  return static_cast<size_t>(grid.rows_per_chunk * grid.bars_per_chunk) * value_bytes + 4;
}

std::vector<hsize_t> ChunkBlock::chunk_origin(size_t k) const {
  const auto columns = static_cast<size_t>(grid.chunk_columns());
  return {static_cast<hsize_t>(row_begin) + k / columns * static_cast<hsize_t>(grid.rows_per_chunk),
          k % columns * static_cast<hsize_t>(grid.bars_per_chunk)};
}

RawChunks::RawChunks(const ChunkGrid& grid, int64_t row_begin, int64_t rows, size_t value_bytes)
    : grid_(grid), row_begin_(row_begin), rows_(rows), value_bytes_(value_bytes) {
  TS_CHECK(rows == 0 || row_begin % grid.rows_per_chunk == 0, "raw chunks: row {} is not on a chunk row", row_begin);
  bytes_.resize(block().bytes());
}

void RawChunks::reuse_for(size_t value_bytes) {
  value_bytes_ = value_bytes;
  bytes_.resize(block().bytes());
}

void RawChunks::reuse_for(int64_t row_begin, int64_t rows, size_t value_bytes) {
  TS_CHECK(rows == 0 || row_begin % grid_.rows_per_chunk == 0, "raw chunks: row {} is not on a chunk row", row_begin);
  row_begin_ = row_begin, rows_ = rows;
  reuse_for(value_bytes);
}

void RawChunks::seal() {
  for (size_t k = 0; k < chunk_count(); ++k) seal_chunk(k);
}

void RawChunks::seal_chunk(size_t k) {
  const size_t data = stride() - 4;
  uint8_t* c = bytes_.data() + k * stride();
  const uint32_t sum = fletcher32(c, data);
  for (int b = 0; b < 4; ++b) c[data + static_cast<size_t>(b)] = static_cast<uint8_t>(sum >> (8 * b));
}

void RawChunks::fill_from_rows(const void* values, int threads) {
  const auto* src = static_cast<const uint8_t*>(values);
  const int64_t columns = grid_.chunk_columns(), rpc = grid_.rows_per_chunk, bpc = grid_.bars_per_chunk;
  const size_t vb = value_bytes_;
  parallel_ranges(static_cast<int64_t>(chunk_count()), threads, [&](int64_t first, int64_t last) {
    for (int64_t k = first; k < last; ++k) {
      uint8_t* chunk = bytes_.data() + static_cast<size_t>(k) * stride();
      const int64_t row0 = k / columns * rpc, bar0 = k % columns * bpc;
      const int64_t rows = std::min(rpc, rows_ - row0), bars = std::min(bpc, grid_.bars - bar0);
      if (rows < rpc || bars < bpc) std::memset(chunk, 0, stride() - 4);  // an edge chunk's padding
      for (int64_t j = 0; j < rows; ++j)
        std::memcpy(chunk + static_cast<size_t>(j * bpc) * vb, src + static_cast<size_t>((row0 + j) * grid_.bars + bar0) * vb,
                    static_cast<size_t>(bars) * vb);
      seal_chunk(static_cast<size_t>(k));
    }
  });
}

void write_sealed_chunks(hid_t dataset, const ChunkBlock& chunks) {
  const h5::Handle space(TS_CHECK_H5(H5Dget_space(dataset)), H5Sclose);
  const int rank = TS_CHECK_H5(H5Sget_simple_extent_ndims(space.id()));
  for (size_t k = 0; k < chunks.chunk_count(); ++k) {
    std::vector<hsize_t> origin = chunks.chunk_origin(k);
    origin.resize(static_cast<size_t>(rank), 0);  // every column in the chunk
    TS_CHECK_H5(H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, origin.data(), chunks.stride(), chunks.chunk(k)));
  }
}

}  // namespace tickstream
