// ChunkLoader: background read-ahead of tiles into a bounded ring of reused buffers, memory accounting, clean stop.
#include "data/chunk_loader.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "store/h5.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;

// Shared by the loader, its thread and the deleters of the chunks it hands out (which may
// outlive the loader). One mutex guards everything; no chunk is ever released while it is held,
// since a chunk's deleter takes it. held_bytes: live chunks that do not come from the pool, plus
// the capacity of every pool buffer (live, idle, or being read into).
struct LoaderState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<const Chunk>> ready;
  std::vector<std::shared_ptr<Chunk>> pool;  // idle buffers of released chunks
  size_t held_bytes = 0, live_chunks = 0, largest = 0;
  bool stop = false, done = false, reading = false;
  std::exception_ptr error;
  LoaderStats stats;
};

// A chunk as fetched: `pooled` ones are loader buffers, counted by capacity (`held`).
struct Fetched {
  std::shared_ptr<const Chunk> chunk;
  bool pooled = false;
  size_t held = 0;
};

// Deleter of a handed-out chunk: a pool buffer goes back to the pool (freed once the loader has
// stopped); another chunk drops its reference (which the cache may share) and its bytes. Wakes
// the loader thread.
struct Release {
  std::shared_ptr<LoaderState> state;
  std::shared_ptr<const Chunk> inner;
  bool pooled = false;
  size_t held = 0;
  void operator()(const Chunk*) {
    std::shared_ptr<const Chunk> drop = std::move(inner);  // freed after the lock
    {
      std::lock_guard<std::mutex> lock(state->mu);
      --state->live_chunks;
      if (pooled && !state->stop) {
        state->pool.push_back(std::const_pointer_cast<Chunk>(std::move(drop)));
      } else {
        state->held_bytes -= held;
      }
    }
    state->cv.notify_all();
  }
};

}  // namespace

struct ChunkLoader::Impl {
  TileSource& source;
  std::vector<Tile> order;
  size_t prefetch = 0;
  ChunkCache* cache = nullptr;
  std::shared_ptr<LoaderState> st = std::make_shared<LoaderState>();
  ChunkBufferPool* spare = nullptr;
  size_t next_tile = 0;  // prefetch 0: the next tile next() reads
  std::thread worker;
  std::optional<h5::BackgroundReaderScope> background;  // while the worker thread reads HDF5

  Impl(TileSource& s, std::vector<Tile> o, size_t p, ChunkCache* c)
      : source(s), order(std::move(o)), prefetch(p), cache(c) {}
  Fetched fetch(const Tile& tile);
  Fetched read_pooled(const Tile& tile);
  std::shared_ptr<const Chunk> track(Fetched f);
  bool wait_for_room();
  void run();
  std::shared_ptr<const Chunk> next_sync();
  std::shared_ptr<const Chunk> next_async();
  [[noreturn]] void throw_overheld() const;
};

// Without a cache: reads `tile` into an idle pool buffer, or a new one when none is idle (then
// at most prefetch + 1 buffers exist, since a read starts only while at most prefetch are live).
Fetched ChunkLoader::Impl::read_pooled(const Tile& tile) {
  std::shared_ptr<Chunk> buffer;
  size_t before = 0;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    if (!st->pool.empty()) {
      buffer = std::move(st->pool.back());
      st->pool.pop_back();
      before = buffer->capacity_bytes();
      ++st->stats.buffer_reuses;
    }
  }
  if (!buffer) buffer = std::make_shared<Chunk>();
  const auto t0 = Clock::now();
  try {
    source.read_into(tile, *buffer);
  } catch (...) {
    std::lock_guard<std::mutex> lock(st->mu);
    st->held_bytes -= before;
    throw;
  }
  const double dt = seconds_since(t0);
  const size_t after = buffer->capacity_bytes();
  std::lock_guard<std::mutex> lock(st->mu);
  st->stats.read_s += dt;
  st->stats.bytes_read += static_cast<double>(buffer->bytes());
  if (after != before) ++st->stats.buffer_allocations;
  st->held_bytes = st->held_bytes - before + after;
  return {std::move(buffer), true, after};
}

// The chunk of `tile`: from the cache on a hit, else from the source (then cached); without a
// cache, into a reused buffer when the source can read into one.
Fetched ChunkLoader::Impl::fetch(const Tile& tile) {
  if (!cache && source.reads_into()) return read_pooled(tile);
  std::shared_ptr<const Chunk> hit = cache ? cache->get(tile) : nullptr;
  if (cache) {
    std::lock_guard<std::mutex> lock(st->mu);
    ++(hit ? st->stats.cache_hits : st->stats.cache_misses);
    if (hit) st->held_bytes += hit->bytes();  // counted in full again (docs/loader.md)
  }
  if (hit) return {hit, false, hit->bytes()};
  const auto t0 = Clock::now();
  std::shared_ptr<const Chunk> chunk = source.read(tile);
  const double dt = seconds_since(t0);
  TS_CHECK(chunk != nullptr, "chunk loader: the tile source returned no chunk for rows [{}, +{}) x bars [{}, +{})",
           tile.row_begin, tile.rows, tile.bar_begin, tile.bars);
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->stats.read_s += dt;
    st->stats.bytes_read += static_cast<double>(chunk->bytes());
    ++st->stats.buffer_allocations;
    st->held_bytes += chunk->bytes();
  }
  if (cache) cache->put(chunk);
  return {chunk, false, chunk->bytes()};
}

// Wraps a chunk as fetched into the one handed out, whose deleter keeps the held-byte count.
std::shared_ptr<const Chunk> ChunkLoader::Impl::track(Fetched f) {
  size_t peak = 0, bound = 0;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    ++st->live_chunks;
    // A pooled buffer may hold more than its chunk (an earlier, larger tile): count its capacity.
    st->largest = std::max(st->largest, f.pooled ? f.held : f.chunk->bytes());
    bound = st->stats.bound_bytes = (prefetch + 1) * st->largest;
    peak = st->stats.peak_bytes = std::max(st->stats.peak_bytes, st->held_bytes);
  }
  const Chunk* raw = f.chunk.get();
  std::shared_ptr<const Chunk> out(raw, Release{st, std::move(f.chunk), f.pooled, f.held});
  TS_CHECK(peak <= bound, "chunk loader: {} chunk bytes held, over the bound of {} ((prefetch {} + 1) x {})",
           peak, bound, prefetch, bound / (prefetch + 1));
  return out;
}

// Loader thread: waits until the ring has room and reading one more chunk keeps at most
// prefetch + 1 alive. False when stopped.
bool ChunkLoader::Impl::wait_for_room() {
  std::unique_lock<std::mutex> lock(st->mu);
  st->cv.wait(lock, [&] {
    return st->stop || (st->ready.size() < prefetch && st->live_chunks <= prefetch);
  });
  if (st->stop) return false;
  st->reading = true;
  return true;
}

void ChunkLoader::Impl::run() {
  try {
    for (const Tile& tile : order) {
      if (!wait_for_room()) return;
      std::shared_ptr<const Chunk> chunk = track(fetch(tile));
      std::lock_guard<std::mutex> lock(st->mu);  // released before `chunk` (declared first)
      st->reading = false;
      if (st->stop) return;
      st->ready.push_back(std::move(chunk));
      st->cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(st->mu);
    st->done = true;
  } catch (...) {
    std::lock_guard<std::mutex> lock(st->mu);
    st->error = std::current_exception();
    st->reading = false;
  }
  st->cv.notify_all();
}

void ChunkLoader::Impl::throw_overheld() const {
  TS_INTERNAL_ERROR(
      "chunk loader: the consumer holds {} chunks and asks for another, which would exceed the memory "
      "bound of prefetch + 1 = {} chunks; release chunks before next() (at prefetch 0, the previous one)",
      st->live_chunks, prefetch + 1);
}

// prefetch 0: reads on the caller's thread; an error is kept and rethrown by every later call,
// as with a loader thread.
std::shared_ptr<const Chunk> ChunkLoader::Impl::next_sync() {
  const auto t0 = Clock::now();
  {
    std::lock_guard<std::mutex> lock(st->mu);
    if (st->error) std::rethrow_exception(st->error);
    if (next_tile >= order.size()) return nullptr;
    if (st->live_chunks > prefetch) throw_overheld();
  }
  std::shared_ptr<const Chunk> chunk;
  try {
    chunk = track(fetch(order[next_tile++]));
  } catch (...) {
    std::lock_guard<std::mutex> lock(st->mu);
    st->error = std::current_exception();
    throw;
  }
  std::lock_guard<std::mutex> lock(st->mu);
  ++st->stats.chunks;
  st->stats.wait_ms.push_back(1e3 * seconds_since(t0));
  return chunk;
}

std::shared_ptr<const Chunk> ChunkLoader::Impl::next_async() {
  const auto t0 = Clock::now();
  std::unique_lock<std::mutex> lock(st->mu);
  // Nothing ready, nothing being read, and the loader may not read: the consumer holds them all.
  const auto overheld = [&] { return st->ready.empty() && !st->reading && !st->done && st->live_chunks > prefetch; };
  st->cv.wait(lock, [&] { return !st->ready.empty() || st->error || st->done || overheld(); });
  if (st->ready.empty()) {
    if (st->error) std::rethrow_exception(st->error);
    if (st->done) return nullptr;
    throw_overheld();
  }
  std::shared_ptr<const Chunk> chunk = std::move(st->ready.front());
  st->ready.pop_front();
  ++st->stats.chunks;
  st->stats.wait_ms.push_back(1e3 * seconds_since(t0));
  lock.unlock();
  st->cv.notify_all();
  return chunk;
}

std::vector<std::shared_ptr<Chunk>> ChunkBufferPool::take(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t k = std::min(n, idle_.size());
  std::vector<std::shared_ptr<Chunk>> out(idle_.end() - static_cast<std::ptrdiff_t>(k), idle_.end());
  idle_.resize(idle_.size() - k);
  return out;
}

void ChunkBufferPool::give(std::vector<std::shared_ptr<Chunk>> buffers) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_ = std::move(buffers);  // only the last loader's: at most prefetch + 1 buffers
}

size_t ChunkBufferPool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

ChunkLoader::ChunkLoader(TileSource& source, std::vector<Tile> order, int64_t prefetch, ChunkCache* cache,
                         ChunkBufferPool* spare) {
  TS_REQUIRE_INPUT(prefetch >= 0, "[loader] prefetch must be >= 0, got {}", prefetch);
  impl_ = std::make_unique<Impl>(source, std::move(order), static_cast<size_t>(prefetch), cache);
  if (spare != nullptr && cache == nullptr && source.reads_into()) {
    impl_->spare = spare;
    impl_->st->pool = spare->take(static_cast<size_t>(prefetch) + 1);
    for (const auto& b : impl_->st->pool) {
      impl_->st->held_bytes += b->capacity_bytes();
      impl_->st->largest = std::max(impl_->st->largest, b->capacity_bytes());
    }
  }
  if (prefetch > 0) {
    impl_->background.emplace();
    impl_->worker = std::thread([m = impl_.get()] { m->run(); });
  }
}

ChunkLoader::~ChunkLoader() {
  const std::shared_ptr<LoaderState> st = impl_->st;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->stop = true;
  }
  st->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();  // waits for the read in progress, if any
  impl_->background.reset();
  std::deque<std::shared_ptr<const Chunk>> ready;      // released after the lock
  std::vector<std::shared_ptr<Chunk>> pool;
  std::lock_guard<std::mutex> lock(st->mu);
  ready.swap(st->ready);
  pool.swap(st->pool);
  for (const auto& b : pool) st->held_bytes -= b->capacity_bytes();
  if (impl_->spare != nullptr) impl_->spare->give(std::move(pool));
}

std::shared_ptr<const Chunk> ChunkLoader::next() {
  return impl_->prefetch == 0 ? impl_->next_sync() : impl_->next_async();
}

LoaderStats ChunkLoader::stats() const {
  std::lock_guard<std::mutex> lock(impl_->st->mu);
  return impl_->st->stats;
}

}  // namespace tickstream
