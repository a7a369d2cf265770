// Sealed /raw chunks: Fletcher32 as HDF5 computes it, the chunk grid, wire blocks.
#include "store/raw_chunks.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/host_threads.hpp"
#include "store/h5.hpp"

namespace tickstream {

uint32_t fletcher32(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t words = bytes / 2;
  uint32_t sum1 = 0, sum2 = 0;
  while (words > 0) {
    size_t run = std::min<size_t>(words, 360);  // no 32-bit overflow before the reduction
    words -= run;
    for (; run > 0; --run, p += 2) {
      sum1 += static_cast<uint32_t>(p[0]) << 8 | p[1];
      sum2 += sum1;
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  if (bytes % 2 != 0) {
    sum1 += static_cast<uint32_t>(*p) << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  return sum2 << 16 | sum1;
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
