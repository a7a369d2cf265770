// Sealed /raw chunks: Fletcher32 as HDF5 computes it, the chunk grid, wire blocks.
#include "store/raw_chunks.hpp"

#include <algorithm>

#include "core/error.hpp"

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

void RawChunks::seal() {
  const size_t data = stride() - 4;
  for (size_t k = 0; k < chunk_count(); ++k) {
    uint8_t* c = bytes_.data() + k * stride();
    const uint32_t sum = fletcher32(c, data);
    for (int b = 0; b < 4; ++b) c[data + static_cast<size_t>(b)] = static_cast<uint8_t>(sum >> (8 * b));
  }
}

}  // namespace tickstream
