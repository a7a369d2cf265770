// Chunk loader: a background thread reads tiles from the store into a bounded ring of host
// buffers (prefetch), optionally through an LRU cache of decoded chunks; latency statistics.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/host_memory.hpp"
#include "data/shard_plan.hpp"

namespace tickstream {

// One tile as read: rows x bars [bar0, bar0 + bars) of /features/values, /features/valid,
// /labels/values, /labels/valid. The feature values, the part a GPU rank copies to its device,
// are in the reader's host memory (ChunkReader::set_host_memory: pinned on CUDA ranks).
struct Chunk {
  Tile tile;
  int64_t bar0 = 0, bars = 0, features = 0, labels = 0;
  HostVector<float> values;          // [rows, bars, features]
  std::vector<uint8_t> valid;        // [rows, bars]
  std::vector<float> label_values;   // [rows, bars, labels]
  std::vector<uint8_t> label_valid;  // [rows, bars]
  size_t bytes() const;
  size_t capacity_bytes() const;     // bytes its vectors hold allocated (>= bytes() in a reused chunk)
};

// Where a ChunkLoader gets its tiles: the store (ChunkReader), or a fake in tests. read() is
// called by one thread at a time (the loader thread while a ChunkLoader runs).
class TileSource {
 public:
  virtual ~TileSource() = default;
  virtual std::shared_ptr<const Chunk> read(const Tile& tile) = 0;
  // Reads `tile` into `out`, reusing its buffers where they are large enough (a buffer that is
  // too small is replaced by one of exactly the new size). Used by a ChunkLoader only when
  // reads_into() is true (default: false, read() is used and its chunks are handed out as they
  // are, e.g. shared resident tiles). Default: copies read(tile).
  virtual void read_into(const Tile& tile, Chunk& out) { out = *read(tile); }
  virtual bool reads_into() const { return false; }
};

// Reads tiles with one hyperslab per dataset from a store opened serially on this rank, with the
// HDF5 chunk cache sized to hold the chunks one tile touches (grown on the first tile that needs
// more). HDF5 is not thread-safe here: while a ChunkLoader with prefetch > 0 runs on this reader,
// its thread is the only one in the process that may call HDF5.
class ChunkReader : public TileSource {
 public:
  // with_labels = false: /labels is neither required nor read (prediction); labels() is 0.
  ChunkReader(const std::string& store_path, int64_t seq_len, bool with_labels = true);
  ~ChunkReader() override;
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;
  std::shared_ptr<const Chunk> read(const Tile& tile) override;
  void read_into(const Tile& tile, Chunk& out) override;
  bool reads_into() const override { return true; }
  // Where the feature values of the chunks read from now on live (default: pageable); a reused
  // buffer in other memory is replaced. `memory` must outlive the reader and its chunks.
  void set_host_memory(const HostMemory& memory);
  int64_t features() const;
  int64_t labels() const;
  int64_t tickers() const;
  int64_t bars() const;
  size_t h5_cache_bytes() const;  // sized HDF5 chunk caches of the four datasets (0 before a read)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// LRU cache of decoded chunks under a byte budget (0 = off); thread-safe. Keyed by the tile, so
// one cache serves one (store, seq_len). A chunk larger than the budget is not cached.
class ChunkCache {
 public:
  explicit ChunkCache(size_t budget_bytes);
  std::shared_ptr<const Chunk> get(const Tile& tile);  // nullptr on a miss
  void put(const std::shared_ptr<const Chunk>& chunk);
  int64_t hits() const;
  int64_t misses() const;
  size_t bytes() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// One loader's statistics. peak_bytes counts every chunk this loader produced while it is alive
// anywhere: in the ring, being read, or held by the consumer; a cache hit counts in full again
// (it may share memory with the cached copy). Chunks held by a ChunkCache are bounded by the
// cache's budget instead, so a loader with a cache uses at most bound_bytes + cache budget.
struct LoaderStats {
  int64_t chunks = 0;
  double bytes_read = 0;           // from the store (cache misses)
  double read_s = 0;               // time the loader thread spent reading
  std::vector<double> wait_ms;     // consumer wait per chunk
  size_t peak_bytes = 0;           // most bytes of this loader's chunks alive at once (see below)
  size_t bound_bytes = 0;          // (prefetch + 1) x largest chunk or reused buffer: peak_bytes never exceeds it
  int64_t cache_hits = 0, cache_misses = 0;
  int64_t buffer_allocations = 0;  // chunk buffers allocated or grown (without a cache: reused after)
  int64_t buffer_reuses = 0;       // reads into a buffer a released chunk gave back
};

// Reads `order` (tiles) in sequence on a background thread, keeping at most `prefetch` chunks
// ready ahead of the consumer (prefetch 0: next() reads synchronously). next() returns the chunks
// in order and nullptr at the end; an error in the loader thread is rethrown by next(). The
// destructor stops the thread cleanly, also mid-epoch (it waits for the read in progress).
// Memory: at most prefetch + 1 chunks of this loader are alive at once, wherever they are (ring,
// read in progress, held by the consumer): the thread reads ahead only while fewer are alive, so
// a consumer that holds its chunk while calling next() just delays the read-ahead. next() throws
// (instead of waiting forever) when the consumer itself holds prefetch + 1 chunks and needs
// another; at prefetch 0 release the previous chunk before next(). `source` and `cache` must
// outlive the loader; chunks may outlive it.
// Buffers: without a cache and with a source that reads_into() (ChunkReader), a chunk the
// consumer releases gives its buffers back to the loader, which reads the next tile into them
// (TileSource::read_into), so steady state allocates nothing.
// Idle buffers count in peak_bytes (by capacity) like live chunks: at most prefetch + 1 buffers
// exist, each no larger than the largest chunk, so the bound holds. Otherwise (a cache, or another
// source) chunks come from read() as before.
// Idle chunk buffers kept between loaders (a consumer creates one loader per epoch and on every
// restart), so a new loader reads into warm memory instead of page-faulting fresh buffers.
// Holds at most what the last loader had idle (prefetch + 1 buffers). Thread-safe.
class ChunkBufferPool {
 public:
  std::vector<std::shared_ptr<Chunk>> take(size_t n);
  void give(std::vector<std::shared_ptr<Chunk>> buffers);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Chunk>> idle_;
};

class ChunkLoader {
 public:
  // `spare` (optional): buffers to start from, and where the idle ones go when the loader ends.
  ChunkLoader(TileSource& source, std::vector<Tile> order, int64_t prefetch, ChunkCache* cache,
              ChunkBufferPool* spare = nullptr);
  ~ChunkLoader();
  ChunkLoader(const ChunkLoader&) = delete;
  ChunkLoader& operator=(const ChunkLoader&) = delete;
  std::shared_ptr<const Chunk> next();
  LoaderStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickstream
