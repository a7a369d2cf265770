// Chunk loader: tiles equal the store's slabs, order and contents at every prefetch, buffer reuse, memory bound, errors, stop, LRU cache, stats JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "data/chunk_loader.hpp"
#include "data/loader_stats.hpp"
#include "store/h5.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A store with /features and /labels only, chunked 4 tickers x 32 bars (tiles straddle chunks).
struct TestStore {
  std::string path;
  int64_t n = 13, t = 200, f = 5, l = 2;
  std::vector<float> values, labels;
  std::vector<uint8_t> valid, label_valid;
};

void write_cube(const h5::File& file, const char* name, hid_t file_type, hid_t mem_type,
                std::vector<hsize_t> dims, const void* data) {
  std::vector<hsize_t> chunk{4, 32};
  if (dims.size() == 3) chunk.push_back(dims[2]);
  h5::Handle ds = h5::create_dataset(file.id(), name, {file_type, dims, chunk, true});
  h5::write_rows(file, ds.id(), mem_type, 0, dims[0], data);
}

TestStore make_store(const std::string& name) {
  TestStore s;
  s.path = ::testing::TempDir() + "/ts_chunk_loader_" + std::to_string(getpid()) + "_" + name + ".h5";
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  s.values.resize(static_cast<size_t>(s.n * s.t * s.f));
  s.labels.resize(static_cast<size_t>(s.n * s.t * s.l));
  for (auto& v : s.values) v = u(rng);
  for (auto& v : s.labels) v = u(rng);
  for (int64_t i = 0; i < s.n * s.t; ++i) s.valid.push_back(u(rng) > -0.8f), s.label_valid.push_back(u(rng) > -0.5f);
  h5::File file = h5::File::create(s.path);
  h5::create_group(file.id(), "features");
  h5::create_group(file.id(), "labels");
  const auto n = static_cast<hsize_t>(s.n), t = static_cast<hsize_t>(s.t);
  write_cube(file, "features/values", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {n, t, 5}, s.values.data());
  write_cube(file, "features/valid", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, t}, s.valid.data());
  write_cube(file, "labels/values", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {n, t, 2}, s.labels.data());
  write_cube(file, "labels/valid", H5T_STD_U8LE, H5T_NATIVE_UINT8, {n, t}, s.label_valid.data());
  file.close();
  return s;
}

// The chunk of `tile` cut from the arrays the store was written from.
Chunk expected_chunk(const TestStore& s, const Tile& tile, int64_t seq_len) {
  Chunk c;
  c.tile = tile, c.bar0 = tile.read_begin(seq_len), c.bars = tile.bar_begin + tile.bars - c.bar0;
  c.features = s.f, c.labels = s.l;
  for (int64_t r = tile.row_begin; r < tile.row_begin + tile.rows; ++r)
    for (int64_t b = c.bar0; b < c.bar0 + c.bars; ++b) {
      const int64_t cell = r * s.t + b;
      c.values.insert(c.values.end(), s.values.begin() + cell * s.f, s.values.begin() + (cell + 1) * s.f);
      c.label_values.insert(c.label_values.end(), s.labels.begin() + cell * s.l, s.labels.begin() + (cell + 1) * s.l);
      c.valid.push_back(s.valid[static_cast<size_t>(cell)]);
      c.label_valid.push_back(s.label_valid[static_cast<size_t>(cell)]);
    }
  return c;
}

void expect_same(const Chunk& a, const Chunk& b) {
  EXPECT_EQ(a.tile.row_begin, b.tile.row_begin);
  EXPECT_EQ(a.tile.bar_begin, b.tile.bar_begin);
  EXPECT_EQ(a.bar0, b.bar0);
  EXPECT_EQ(a.bars, b.bars);
  EXPECT_EQ(a.features, b.features);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.label_values, b.label_values);
  EXPECT_EQ(a.label_valid, b.label_valid);
}

std::vector<Tile> grid(int64_t n, int64_t t, int64_t rows, int64_t bars) {
  std::vector<Tile> tiles;
  for (int64_t r = 0; r < n; r += rows)
    for (int64_t b = 0; b < t; b += bars) tiles.push_back({r, std::min(rows, n - r), b, std::min(bars, t - b)});
  return tiles;
}

// A source of 100-byte chunks (2 x 10 cells, one feature, no labels) tagged by tile; optionally
// slow, or throwing an InputError on one read.
class FakeSource : public TileSource {
 public:
  std::shared_ptr<const Chunk> read(const Tile& tile) override {
    const int64_t i = reads++;
    if (delay_ms > 0) sleep_ms(delay_ms);
    if (i == throw_at) TS_INPUT_ERROR("disk on fire at read {}", i);
    auto c = std::make_shared<Chunk>();
    c->tile = tile, c->bar0 = tile.bar_begin, c->bars = 10, c->features = 1;
    c->values.assign(20, static_cast<float>(tile.bar_begin));
    c->valid.assign(20, 1);
    return c;
  }
  std::atomic<int64_t> reads{0};
  int delay_ms = 0;
  int64_t throw_at = -1;
};

std::vector<Tile> fake_tiles(int64_t count) {
  std::vector<Tile> tiles;
  for (int64_t i = 0; i < count; ++i) tiles.push_back({0, 2, i, 1});
  return tiles;
}

TEST(ChunkReader, TileEqualsTheStoreSlabAndSizesTheChunkCache) {
  const TestStore s = make_store("reader");
  ChunkReader reader(s.path, 8);
  EXPECT_EQ(reader.features(), 5);
  EXPECT_EQ(reader.labels(), 2);
  EXPECT_EQ(reader.h5_cache_bytes(), 0u);
  // Rows 4..8 x bars 33..69: 2 x 2 chunks of each dataset (4 x 32 x {5 floats, 1 byte, 2 floats, 1 byte}).
  const Tile inner{4, 5, 40, 30};
  const auto c = reader.read(inner);
  expect_same(*c, expected_chunk(s, inner, 8));
  EXPECT_EQ(c->bar0, 33);
  EXPECT_EQ(reader.h5_cache_bytes(), 4u * 4 * 32 * (5 * 4 + 1 + 2 * 4 + 1));
  EXPECT_EQ(c->bytes(), static_cast<size_t>(5 * 37 * (5 * 4 + 1 + 2 * 4 + 1)));
  for (const Tile& t : {Tile{0, 4, 0, 32}, Tile{0, 4, 3, 5}, Tile{12, 1, 190, 10}, Tile{0, 13, 0, 200}})
    expect_same(*reader.read(t), expected_chunk(s, t, 8));
  // The same slab read directly.
  const h5::File file = h5::File::open(s.path, false);
  h5::Handle ds = h5::open_dataset(file.id(), "features/values");
  std::vector<float> direct(5 * 37 * 5);
  h5::read_slab(file, ds.id(), H5T_NATIVE_FLOAT, {4, 33, 0}, {5, 37, 5}, direct.data());
  EXPECT_EQ(std::vector<float>(c->values.begin(), c->values.end()), direct);
}

// A host memory that counts its live blocks (a stand-in for pinned memory: same path, no CUDA).
struct CountingMemory {
  static int& live() {
    static int n = 0;
    return n;
  }
  static void* allocate(size_t bytes) {
    ++live();
    return std::malloc(bytes);
  }
  static void release(void* p) noexcept {
    --live();
    std::free(p);
  }
};

TEST(ChunkReader, ReadsFeatureValuesIntoTheHostMemoryItIsGiven) {
  const TestStore s = make_store("memory");
  const HostMemory counting{"counting", CountingMemory::allocate, CountingMemory::release};
  ChunkReader reader(s.path, 8);
  Chunk reused;
  reader.read_into(Tile{0, 4, 0, 32}, reused);  // pageable
  EXPECT_STREQ(reused.values.get_allocator().memory().name, "pageable");
  reader.set_host_memory(counting);
  {
    const auto c = reader.read(Tile{4, 5, 40, 30});
    EXPECT_EQ(&c->values.get_allocator().memory(), &counting);
    expect_same(*c, expected_chunk(s, Tile{4, 5, 40, 30}, 8));
    EXPECT_EQ(CountingMemory::live(), 1);
    const Chunk copy = *c;  // a copy stays in the same memory
    EXPECT_EQ(&copy.values.get_allocator().memory(), &counting);
    EXPECT_EQ(CountingMemory::live(), 2);
  }
  EXPECT_EQ(CountingMemory::live(), 0);
  reader.read_into(Tile{0, 4, 0, 32}, reused);  // a reused pageable buffer is replaced
  EXPECT_EQ(&reused.values.get_allocator().memory(), &counting);
  expect_same(reused, expected_chunk(s, Tile{0, 4, 0, 32}, 8));
  EXPECT_EQ(CountingMemory::live(), 1);
}

TEST(ChunkReader, RejectsTilesOutsideTheStoreAndStoresWithoutFeatures) {
  const TestStore s = make_store("reject");
  ChunkReader reader(s.path, 4);
  EXPECT_THROW(reader.read({10, 4, 0, 10}), InternalError);
  EXPECT_THROW(reader.read({0, 1, 195, 6}), InternalError);
  EXPECT_THROW(ChunkReader(s.path, 0), InputError);
  const std::string bare = ::testing::TempDir() + "/ts_chunk_loader_" + std::to_string(getpid()) + "_bare.h5";
  h5::File::create(bare).close();
  try {
    ChunkReader r(bare, 4);
    ADD_FAILURE() << "no error for a store without /features";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tickstream features"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ChunkReader(bare + ".missing", 4), InputError);
}

TEST(ChunkLoader, YieldsTheTilesInOrderWithTheSameContentsAtEveryPrefetch) {
  const TestStore s = make_store("order");
  ChunkReader reader(s.path, 16);
  std::vector<Tile> order = grid(s.n, s.t, 4, 25);
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  size_t largest = 0;
  double total = 0;
  for (const Tile& t : order) {
    const size_t b = expected_chunk(s, t, 16).bytes();
    largest = std::max(largest, b), total += static_cast<double>(b);
  }
  for (int64_t prefetch : {0, 1, 2, 4}) {
    ChunkLoader loader(reader, order, prefetch, nullptr);
    size_t i = 0;
    while (auto c = loader.next()) {
      ASSERT_LT(i, order.size());
      expect_same(*c, expected_chunk(s, order[i++], 16));
    }
    EXPECT_EQ(i, order.size()) << "prefetch " << prefetch;
    EXPECT_EQ(loader.next(), nullptr);
    const LoaderStats st = loader.stats();
    EXPECT_EQ(st.chunks, static_cast<int64_t>(order.size()));
    EXPECT_EQ(st.wait_ms.size(), order.size());
    EXPECT_EQ(st.bytes_read, total);
    EXPECT_EQ(st.bound_bytes, static_cast<size_t>(prefetch + 1) * largest);
    EXPECT_GE(st.peak_bytes, largest);
    EXPECT_LE(st.peak_bytes, st.bound_bytes) << "prefetch " << prefetch;
  }
}

TEST(ChunkLoader, PeakMemoryReachesButNeverExceedsTheBound) {
  for (bool hold_previous : {false, true}) {
    FakeSource source;
    ChunkLoader loader(source, fake_tiles(12), 2, nullptr);
    int64_t seen = 0;
    const auto consume = [&](const Chunk& c) {
      EXPECT_EQ(c.tile.bar_begin, seen++);
      sleep_ms(15);
    };
    if (hold_previous) {  // the previous chunk stays alive while the next is used: the loader waits
      std::shared_ptr<const Chunk> previous;
      while (auto c = loader.next()) consume(*c), previous = c;
    } else {
      while (auto c = loader.next()) consume(*c);
    }
    EXPECT_EQ(seen, 12);
    const LoaderStats st = loader.stats();
    EXPECT_EQ(st.bound_bytes, 300u);
    EXPECT_EQ(st.peak_bytes, 300u) << "ring of 2 full while the consumer holds 1";
    const auto j = loader_stats_json(st, 1.0);
    EXPECT_DOUBLE_EQ(j["peak_mb"].get<double>(), 300e-6);
    EXPECT_DOUBLE_EQ(j["bound_mb"].get<double>(), 300e-6);
  }
}

TEST(ChunkLoader, SteadyStateReadsReuseTheBuffersOfReleasedChunks) {
  const TestStore s = make_store("reuse");
  ChunkReader reader(s.path, 16);
  std::vector<Tile> order;  // same-shaped tiles (full history), so every read fits a used buffer
  for (int rep = 0; rep < 2; ++rep)
    for (int64_t r = 0; r + 4 <= s.n; r += 4)
      for (int64_t b = 25; b + 25 <= s.t; b += 25) order.push_back({r, 4, b, 25});
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  for (int64_t prefetch : {0, 1, 2}) {
    ChunkLoader loader(reader, order, prefetch, nullptr);
    size_t i = 0;
    std::shared_ptr<const Chunk> previous;
    while (auto c = loader.next()) {
      expect_same(*c, expected_chunk(s, order[i++], 16));
      if (previous) expect_same(*previous, expected_chunk(s, order[i - 2], 16));  // not overwritten
      previous = prefetch > 0 ? c : nullptr;
    }
    ASSERT_EQ(i, order.size());
    const LoaderStats st = loader.stats();
    EXPECT_LE(st.buffer_allocations, prefetch + 1) << "prefetch " << prefetch;
    EXPECT_EQ(st.buffer_allocations + st.buffer_reuses, static_cast<int64_t>(order.size()));
    EXPECT_LE(st.peak_bytes, st.bound_bytes);
  }
  FakeSource fake;  // a source without read_into: its chunks are handed out as read, not copied
  ChunkLoader loader(fake, fake_tiles(20), 2, nullptr);
  int64_t seen = 0;
  while (auto c = loader.next()) EXPECT_EQ(c->values.at(0), static_cast<float>(seen++));
  EXPECT_EQ(seen, 20);
  EXPECT_EQ(loader.stats().buffer_allocations, 20);
  EXPECT_EQ(loader.stats().buffer_reuses, 0);
}

// A pool passed from one loader to the next (training: one loader per epoch) hands its warm
// buffers on: a later loader reuses every warm buffer and allocates only what the consumer's timing
// needs beyond them (never more buffers in all than prefetch + 1).
TEST(ChunkLoader, ASparePoolCarriesWarmBuffersToTheNextLoader) {
  const TestStore s = make_store("spare");
  ChunkReader reader(s.path, 16);
  std::vector<Tile> order;
  for (int64_t r = 0; r + 4 <= s.n; r += 4) order.push_back({r, 4, 25, 25});
  ChunkBufferPool spare;
  for (int epoch = 0; epoch < 3; ++epoch) {
    const auto warm = static_cast<int64_t>(spare.size());
    ChunkLoader loader(reader, order, 2, nullptr, &spare);
    size_t i = 0;
    while (auto c = loader.next()) expect_same(*c, expected_chunk(s, order[i++], 16));
    const LoaderStats st = loader.stats();
    if (epoch == 0) {
      EXPECT_GT(st.buffer_allocations, 0);
    } else {
      EXPECT_GT(warm, 0) << "epoch " << epoch;
      EXPECT_GE(st.buffer_reuses, warm) << "epoch " << epoch;
      EXPECT_LE(warm + st.buffer_allocations, 3) << "epoch " << epoch;
    }
    EXPECT_LE(st.peak_bytes, st.bound_bytes);
  }
  EXPECT_GE(spare.size(), 1u);
  EXPECT_LE(spare.size(), 3u);
}

// HDF5 is not thread-safe here: opening a file while a loader thread reads is refused by name.
TEST(ChunkLoader, OpeningAStoreWhileALoaderThreadReadsIsRefused) {
  const TestStore s = make_store("guard");
  ChunkReader reader(s.path, 16);
  {
    ChunkLoader loader(reader, {{0, 4, 25, 25}}, 2, nullptr);
    EXPECT_EQ(h5::BackgroundReaderScope::active(), 1);
    try {
      h5::File::open(s.path, false);
      ADD_FAILURE() << "no error";
    } catch (const InternalError& e) {
      EXPECT_NE(std::string(e.what()).find("HDF5 is not thread-safe"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(h5::BackgroundReaderScope::active(), 0);
  EXPECT_NO_THROW(h5::File::open(s.path, false));
}

TEST(ChunkLoader, AConsumerHoldingTooManyChunksGetsAnErrorNotAHang) {
  FakeSource source;
  ChunkLoader loader(source, fake_tiles(5), 1, nullptr);
  auto a = loader.next(), b = loader.next();
  try {
    loader.next();
    ADD_FAILURE() << "no error with prefetch + 1 chunks held";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("release chunks"), std::string::npos) << e.what();
  }
  a.reset();
  EXPECT_EQ(loader.next()->tile.bar_begin, 2);
  FakeSource sync_source;
  ChunkLoader sync(sync_source, fake_tiles(3), 0, nullptr);
  auto c = sync.next();
  EXPECT_THROW(sync.next(), InternalError);
  c.reset();
  EXPECT_EQ(sync.next()->tile.bar_begin, 1);
}

TEST(ChunkLoader, AnErrorInTheSourceReachesTheConsumerWithItsTypeAndMessage) {
  for (int64_t prefetch : {0, 2}) {
    FakeSource source;
    source.throw_at = 3;
    ChunkLoader loader(source, fake_tiles(8), prefetch, nullptr);
    for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(loader.next()->tile.bar_begin, i);
    for (int repeat = 0; repeat < 2; ++repeat) {
      try {
        loader.next();
        ADD_FAILURE() << "no error at prefetch " << prefetch;
      } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()), "disk on fire at read 3");
      }
    }
  }
}

TEST(ChunkLoader, StopsPromptlyMidEpoch) {
  {  // ring full, loader blocked on it
    FakeSource source;
    auto loader = std::make_unique<ChunkLoader>(source, fake_tiles(1000), 4, nullptr);
    auto held = loader->next();
    sleep_ms(100);
    EXPECT_EQ(source.reads.load(), 5) << "1 held + a ring of 4";
    const auto t0 = Clock::now();
    loader.reset();
    EXPECT_LT(seconds_since(t0), 1.0);
    EXPECT_EQ(held->tile.bar_begin, 0) << "a chunk outlives its loader";
  }
  {  // slow source: the destructor waits for the read in progress only
    FakeSource source;
    source.delay_ms = 300;
    auto loader = std::make_unique<ChunkLoader>(source, fake_tiles(1000), 2, nullptr);
    EXPECT_EQ(loader->next()->tile.bar_begin, 0);
    const auto t0 = Clock::now();
    loader.reset();
    EXPECT_LT(seconds_since(t0), 1.0);
  }
  {  // never consumed
    FakeSource source;
    const auto t0 = Clock::now();
    { ChunkLoader loader(source, fake_tiles(1000), 2, nullptr); }
    EXPECT_LT(seconds_since(t0), 1.0);
  }
}

std::shared_ptr<const Chunk> fake_chunk(int64_t bar, size_t values) {
  auto c = std::make_shared<Chunk>();
  c->tile = {0, 1, bar, 1};
  c->values.assign(values, 1.0f);  // 4 bytes each
  return c;
}

TEST(ChunkCache, CountsHitsAndMissesEvictsTheLeastRecentlyUsedAndSkipsOversizedChunks) {
  ChunkCache cache(250);
  cache.put(fake_chunk(0, 25));  // A, 100 bytes
  cache.put(fake_chunk(1, 25));  // B
  EXPECT_EQ(cache.bytes(), 200u);
  EXPECT_NE(cache.get({0, 1, 0, 1}), nullptr);  // A becomes the most recent
  cache.put(fake_chunk(2, 25));                 // C evicts B, the least recent
  EXPECT_EQ(cache.get({0, 1, 1, 1}), nullptr);
  EXPECT_NE(cache.get({0, 1, 0, 1}), nullptr);
  EXPECT_NE(cache.get({0, 1, 2, 1}), nullptr);
  EXPECT_EQ(cache.hits(), 3);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.bytes(), 200u);
  cache.put(fake_chunk(2, 25));  // the same tile again: replaced, not counted twice
  EXPECT_EQ(cache.bytes(), 200u);
  cache.put(fake_chunk(3, 70));  // 280 bytes > budget: not cached, nothing evicted
  EXPECT_EQ(cache.get({0, 1, 3, 1}), nullptr);
  EXPECT_NE(cache.get({0, 1, 0, 1}), nullptr);
  EXPECT_EQ(cache.bytes(), 200u);
  ChunkCache off(0);
  off.put(fake_chunk(0, 1));
  EXPECT_EQ(off.get({0, 1, 0, 1}), nullptr);
  EXPECT_EQ(off.bytes(), 0u);
}

TEST(ChunkLoader, ACacheServesTheSecondEpochWithoutReading) {
  const TestStore s = make_store("cache");
  ChunkReader reader(s.path, 8);
  std::vector<Tile> order = grid(s.n, s.t, 5, 50);
  ChunkCache cache(size_t{1} << 24);
  for (int epoch = 0; epoch < 2; ++epoch) {
    if (epoch == 1) std::reverse(order.begin(), order.end());
    ChunkLoader loader(reader, order, 2, &cache);
    size_t i = 0;
    while (auto c = loader.next()) expect_same(*c, expected_chunk(s, order[i++], 8));
    const LoaderStats st = loader.stats();
    const auto n = static_cast<int64_t>(order.size());
    EXPECT_EQ(st.cache_hits, epoch == 0 ? 0 : n);
    EXPECT_EQ(st.cache_misses, epoch == 0 ? n : 0);
    EXPECT_EQ(st.bytes_read > 0, epoch == 0);
    EXPECT_LE(st.peak_bytes, st.bound_bytes);
  }
  EXPECT_EQ(cache.hits(), static_cast<int64_t>(order.size()));
}

TEST(LoaderStats, JsonFromHandMadeStats) {
  LoaderStats s;
  s.chunks = 5;
  s.wait_ms = {4, 1, 100, 3, 2};
  s.bytes_read = 5e6, s.read_s = 2;
  s.peak_bytes = 2'000'000, s.bound_bytes = 3'000'000;
  s.cache_hits = 3, s.cache_misses = 1;
  const auto j = loader_stats_json(s, 0.5);
  EXPECT_EQ(j["chunks"].get<int64_t>(), 5);
  EXPECT_DOUBLE_EQ(j["wait_ms_mean"].get<double>(), 22.0);
  EXPECT_DOUBLE_EQ(j["wait_ms_p50"].get<double>(), 3.0);
  EXPECT_NEAR(j["wait_ms_p99"].get<double>(), 4 + 0.96 * 96, 1e-9);
  EXPECT_DOUBLE_EQ(j["wait_ms_max"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["wait_s_total"].get<double>(), 0.11);
  EXPECT_DOUBLE_EQ(j["stall_fraction"].get<double>(), 0.22);
  EXPECT_DOUBLE_EQ(j["read_mb_s"].get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(j["cache_hit_rate"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["peak_mb"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["bound_mb"].get<double>(), 3.0);
  const auto empty = loader_stats_json(LoaderStats{}, 0);
  EXPECT_TRUE(empty["cache_hit_rate"].is_null());
  for (const char* k : {"wait_ms_mean", "wait_ms_p50", "wait_ms_p99", "wait_ms_max", "stall_fraction", "read_mb_s"})
    EXPECT_EQ(empty[k].get<double>(), 0.0) << k;
}

}  // namespace
}  // namespace tickstream
