// Ingest's direct chunk writes: Fletcher32 bit-exact with HDF5's own, and a store written chunk
// by chunk (edge chunks, odd byte counts, two row blocks) reads back exactly like one written
// through HDF5's filter pipeline, checksums verified on every read.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "store/h5.hpp"
#include "store/raw_chunks.hpp"
#include "store/store_compare.hpp"
#include "store/store_reader.hpp"
#include "store/store_writer.hpp"

extern "C" uint32_t H5_checksum_fletcher32(const void* data, size_t len);  // libhdf5's (exported, not public)

namespace tickstream {
namespace {

TEST(Fletcher32, BitExactWithHdf5OnEdgeLengthsAndPatterns) {
  std::mt19937 rng(5);
  std::vector<uint8_t> bytes(300000);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  for (size_t n : {0, 1, 2, 3, 511, 512, 513, 719, 720, 721, 722, 1024, 1441, 4096, 4999, 5000, 65537, 299999, 300000}) {
    EXPECT_EQ(fletcher32(bytes.data(), n), H5_checksum_fletcher32(bytes.data(), n)) << n;
    const std::vector<uint8_t> zeros(n, 0), ones(n, 0xff);
    EXPECT_EQ(fletcher32(zeros.data(), n), H5_checksum_fletcher32(zeros.data(), n)) << n;
    EXPECT_EQ(fletcher32(ones.data(), n), H5_checksum_fletcher32(ones.data(), n)) << n;
    // sums that are multiples of 65535 (0xffff words): the folded 65535, not 0
    std::vector<uint8_t> one_word(n, 0);
    if (n >= 2) one_word[n - 2] = one_word[n - 1] = 0xff;
    EXPECT_EQ(fletcher32(one_word.data(), n), H5_checksum_fletcher32(one_word.data(), n)) << n;
  }
}

StoreLayout small_layout() {
  StoreLayout l;
  l.tickers = {"A", "B", "C", "D", "E"};
  for (int t = 0; t < 7; ++t) l.time.push_back(86400 * (t + 1));
  l.has_adj_close = true;
  l.chunk_tickers = 2, l.chunk_bars = 3;  // edge chunks both ways; valid chunks of 6 bytes + 4
  return l;
}

double value(size_t field, int64_t row, int64_t t) { return 100.0 * static_cast<double>(field) + row * 10.0 + t + 0.25; }
bool present(int64_t row, int64_t t) { return (row * 7 + t) % 3 != 1; }

TEST(RawChunks, DirectWritesReadLikeThePipeline) {
  const StoreLayout layout = small_layout();
  const std::string dir = ::testing::TempDir();
  RawBlock block;
  block.resize(0, 5, 7, true);
  std::vector<std::vector<double>*> arrays{&block.open, &block.high, &block.low, &block.close, &block.volume,
                                           &block.adj_close};
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t t = 0; t < 7; ++t)
      if (present(r, t)) {
        block.valid[block.index(r, t)] = 1;
        for (size_t f = 0; f < arrays.size(); ++f) (*arrays[f])[block.index(r, t)] = value(f, r, t);
      }
  {
    StoreWriter pipeline(dir + "/pipeline.h5", nullptr, layout);
    pipeline.write_raw(block);
    pipeline.close();
  }
  StoreWriter direct(dir + "/direct.h5", nullptr, layout);
  const ChunkGrid grid(5, 7, 2, 3);
  for (const auto& [begin, rows] : {std::pair<int64_t, int64_t>{0, 2}, {2, 3}}) {  // two ranks' blocks
    RawChunks chunks(grid, begin, rows, sizeof(double));
    for (size_t field = 0; field < direct.field_count(); ++field) {
      const bool valid = field + 1 == direct.field_count();
      chunks.reuse_for(valid ? 1 : sizeof(double));
      if (valid) chunks.fill<uint8_t>(0);
      else chunks.fill(std::nan(""));
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<int64_t> at;
        for (int64_t t = 0; t < 7; ++t)
          if (present(begin + r, t)) at.push_back(t);
        if (valid) chunks.set_row<uint8_t>(r, at, [](size_t) { return uint8_t{1}; });
        else chunks.set_row<double>(r, at, [&](size_t i) { return value(field, begin + r, at[i]); });
      }
      chunks.seal();
      direct.write_chunks(field, chunks.block());
    }
  }
  direct.close();
  const auto diff = compare_stores(dir + "/pipeline.h5", dir + "/direct.h5");
  EXPECT_FALSE(diff.has_value()) << *diff;
  const RawBlock back = StoreReader(dir + "/direct.h5").read_raw(0, 5);
  EXPECT_EQ(back.close[back.index(4, 5)], value(3, 4, 5));
  EXPECT_TRUE(std::isnan(back.close[back.index(4, 6)]));  // (4 x 7 + 6) % 3 == 1: no bar
  EXPECT_EQ(back.valid[back.index(0, 1)], 0);
  EXPECT_TRUE(std::isnan(back.open[back.index(0, 1)]));
}

// The features' writes: rows of [tickers, bars, columns] values copied into chunks on several
// host threads (edge chunks both ways, two ranks' row blocks), sealed and written directly, read
// back through HDF5 (every checksum verified) exactly as written through the filter pipeline.
TEST(RawChunks, RowsFilledOnThreadsReadLikeThePipeline) {
  const int64_t n = 5, t = 7, columns = 3;
  std::vector<float> values(static_cast<size_t>(n * t * columns));
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i) - 7.0f;
  const std::string dir = ::testing::TempDir();
  std::vector<float> back_pipeline(values.size()), back_direct(values.size());
  for (const bool direct : {false, true}) {
    h5::File file = h5::File::create(dir + (direct ? "/rows_direct.h5" : "/rows_pipeline.h5"));
    h5::Handle ds = h5::create_dataset(file.id(), "values", {H5T_IEEE_F32LE, {5, 7, 3}, {2, 3, 3}, true});
    if (!direct) {
      h5::write_rows(file, ds.id(), H5T_NATIVE_FLOAT, 0, n, values.data());
    } else {
      const ChunkGrid grid(n, t, 2, 3);
      for (const auto& [begin, rows] : {std::pair<int64_t, int64_t>{0, 2}, {2, 3}}) {
        RawChunks chunks(grid, begin, rows, 1);
        chunks.reuse_for(columns * sizeof(float));
        chunks.fill_from_rows(values.data() + begin * t * columns, 3);
        write_sealed_chunks(ds.id(), chunks.block());
      }
    }
    h5::read_rows(file, ds.id(), H5T_NATIVE_FLOAT, 0, n, (direct ? back_direct : back_pipeline).data());
  }
  EXPECT_EQ(back_pipeline, values);
  EXPECT_EQ(back_direct, values);
  // Each sealed chunk ends with its Fletcher32, little-endian (as the filter stores it).
  RawChunks one(ChunkGrid(n, t, 2, 3), 0, 2, columns * sizeof(float));
  one.fill_from_rows(values.data(), 1);
  std::vector<uint8_t> bytes(one.bytes());
  EXPECT_EQ(fletcher32(bytes.data(), one.stride() - 4),
            static_cast<uint32_t>(bytes[one.stride() - 4] | bytes[one.stride() - 3] << 8 | bytes[one.stride() - 2] << 16 |
                                  static_cast<uint32_t>(bytes[one.stride() - 1]) << 24));
}

}  // namespace
}  // namespace tickstream
