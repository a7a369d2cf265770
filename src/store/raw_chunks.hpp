// One /raw field of a block of whole chunk rows in the form the store keeps on disk: chunks of
// chunk_tickers x chunk_bars values (row-major, edge chunks padded), each followed by its
// Fletcher32 checksum (the filter of every /raw dataset), ready for H5Dwrite_chunk. Ingest's ranks
// fill and seal their own rows in parallel; one writer writes every rank's chunks as they are.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include <hdf5.h>

namespace tickstream {

// HDF5's Fletcher32 (H5checksum.c): 16-bit big-endian words, sums reduced every 360 words.
uint32_t fletcher32(const void* data, size_t bytes);

// Writes sealed chunks straight into `dataset` (H5Dwrite_chunk, no filter pipeline): a [tickers,
// bars] dataset, or [tickers, bars, columns] with every column in one chunk (value_bytes = the
// columns' bytes). Serial HDF5: one writer.
struct ChunkBlock;
void write_sealed_chunks(hid_t dataset, const ChunkBlock& chunks);

// The chunk shape of a [tickers, bars] dataset as create_dataset stores it (clamped to the dims).
struct ChunkGrid {
  ChunkGrid(int64_t tickers, int64_t bars, int64_t chunk_tickers, int64_t chunk_bars);
  int64_t tickers, bars, rows_per_chunk, bars_per_chunk;
  int64_t chunk_columns() const { return (bars + bars_per_chunk - 1) / bars_per_chunk; }
};

// Sealed chunks of rows [row_begin, row_begin + rows) of one field, wherever their bytes are (a
// RawChunks of this rank, or a rank's part of a gathered buffer): what a writer needs.
struct ChunkBlock {
  ChunkGrid grid;
  int64_t row_begin = 0, rows = 0;
  size_t value_bytes = 8;
  const uint8_t* data = nullptr;

  size_t chunk_count() const;
  size_t stride() const;  // a chunk with its checksum
  size_t bytes() const { return chunk_count() * stride(); }
  const uint8_t* chunk(size_t k) const { return data + k * stride(); }
  std::vector<hsize_t> chunk_origin(size_t k) const;  // (ticker, bar) of its first value
};

class RawChunks {
 public:
  // Rows [row_begin, row_begin + rows): row_begin on a chunk row boundary. `value_bytes`: 8 for
  // the float64 fields, 1 for valid.
  RawChunks(const ChunkGrid& grid, int64_t row_begin, int64_t rows, size_t value_bytes);

  // Sets every value (padding included) to `value`. Values are copied bytewise: a chunk's 4-byte
  // checksum leaves the next chunk's doubles unaligned.
  template <typename T>
  void fill(T value) {
    for (size_t k = 0; k < chunk_count(); ++k) {
      uint8_t* values = bytes_.data() + k * stride();
      for (size_t i = 0; i < chunk_values(); ++i) std::memcpy(values + i * sizeof(T), &value, sizeof(T));
    }
  }
  // Writes one row (counted from row_begin): value(i) at bar bars[i], bars increasing.
  template <typename T, typename Value>
  void set_row(int64_t row, const std::vector<int64_t>& bars, Value&& value) {
    const int64_t first_chunk = row / grid_.rows_per_chunk * grid_.chunk_columns();
    const auto in_chunk = static_cast<size_t>(row % grid_.rows_per_chunk * grid_.bars_per_chunk);
    int64_t column = -1, column_end = 0;
    uint8_t* values = nullptr;
    for (size_t i = 0; i < bars.size(); ++i) {
      while (bars[i] >= column_end) {  // the next chunk column (no division per value)
        ++column, column_end += grid_.bars_per_chunk;
        values = bytes_.data() + static_cast<size_t>(first_chunk + column) * stride() + in_chunk * sizeof(T);
      }
      const T v = value(i);
      std::memcpy(values + static_cast<size_t>(bars[i] - (column_end - grid_.bars_per_chunk)) * sizeof(T), &v,
                  sizeof(T));
    }
  }
  // The same rows for another field: `value_bytes` per value, the buffer reused (no fresh pages).
  void reuse_for(size_t value_bytes);
  // Other rows (row_begin on a chunk row boundary) and value size, the buffer reused.
  void reuse_for(int64_t row_begin, int64_t rows, size_t value_bytes);
  // Appends each chunk's checksum (little-endian, as the filter writes it).
  void seal();
  // Copies this block's rows from row-major `values` (rows x grid.bars values of value_bytes,
  // counted from row_begin) into their chunks, zeroes the edge chunks' padding and seals every
  // chunk: host threads over chunks.
  void fill_from_rows(const void* values, int threads);

  size_t chunk_count() const { return block().chunk_count(); }
  size_t stride() const { return block().stride(); }
  ChunkBlock block() const { return {grid_, row_begin_, rows_, value_bytes_, bytes_.data()}; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  size_t chunk_values() const { return static_cast<size_t>(grid_.rows_per_chunk * grid_.bars_per_chunk); }
  void seal_chunk(size_t k);
  ChunkGrid grid_;
  int64_t row_begin_, rows_;
  size_t value_bytes_;
  std::vector<uint8_t> bytes_;
};

}  // namespace tickstream
