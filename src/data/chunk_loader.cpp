// ChunkLoader: background read-ahead of tiles into a bounded ring, live-chunk memory accounting, clean stop.
#include "data/chunk_loader.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/error.hpp"

namespace tickstream {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Shared by the loader, its thread and the deleters of the chunks it hands out (which may
// outlive the loader). One mutex guards everything; no chunk is ever released while it is held,
// since a chunk's deleter takes it.
struct LoaderState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<const Chunk>> ready;
  size_t live_bytes = 0, live_chunks = 0, largest = 0;
  bool stop = false, done = false, reading = false;
  std::exception_ptr error;
  LoaderStats stats;
};

// Deleter of a handed-out chunk: drops the reference to the chunk as read (which the cache may
// share), then gives its bytes back and wakes the loader thread.
struct Release {
  std::shared_ptr<LoaderState> state;
  std::shared_ptr<const Chunk> inner;
  size_t bytes = 0;
  void operator()(const Chunk*) {
    inner.reset();
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->live_bytes -= bytes;
      --state->live_chunks;
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
  size_t next_tile = 0;  // prefetch 0: the next tile next() reads
  std::thread worker;

  Impl(TileSource& s, std::vector<Tile> o, size_t p, ChunkCache* c)
      : source(s), order(std::move(o)), prefetch(p), cache(c) {}
  std::shared_ptr<const Chunk> fetch(const Tile& tile);
  std::shared_ptr<const Chunk> track(std::shared_ptr<const Chunk> inner);
  bool wait_for_room();
  void run();
  std::shared_ptr<const Chunk> next_sync();
  std::shared_ptr<const Chunk> next_async();
  [[noreturn]] void throw_overheld() const;
};

// The chunk of `tile`: from the cache on a hit, else from the source (then cached).
std::shared_ptr<const Chunk> ChunkLoader::Impl::fetch(const Tile& tile) {
  if (cache) {
    std::shared_ptr<const Chunk> hit = cache->get(tile);
    std::lock_guard<std::mutex> lock(st->mu);
    ++(hit ? st->stats.cache_hits : st->stats.cache_misses);
    if (hit) return hit;
  }
  const auto t0 = Clock::now();
  std::shared_ptr<const Chunk> chunk = source.read(tile);
  const double dt = seconds_since(t0);
  TS_CHECK(chunk != nullptr, "chunk loader: the tile source returned no chunk for rows [{}, +{}) x bars [{}, +{})",
           tile.row_begin, tile.rows, tile.bar_begin, tile.bars);
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->stats.read_s += dt;
    st->stats.bytes_read += static_cast<double>(chunk->bytes());
  }
  if (cache) cache->put(chunk);
  return chunk;
}

// Wraps a chunk as read into the one handed out, whose deleter keeps the live-byte count.
std::shared_ptr<const Chunk> ChunkLoader::Impl::track(std::shared_ptr<const Chunk> inner) {
  const size_t bytes = inner->bytes();
  size_t peak = 0, bound = 0;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->live_bytes += bytes;
    ++st->live_chunks;
    st->largest = std::max(st->largest, bytes);
    bound = st->stats.bound_bytes = (prefetch + 1) * st->largest;
    peak = st->stats.peak_bytes = std::max(st->stats.peak_bytes, st->live_bytes);
  }
  const Chunk* raw = inner.get();
  std::shared_ptr<const Chunk> out(raw, Release{st, std::move(inner), bytes});
  TS_CHECK(peak <= bound, "chunk loader: {} chunk bytes alive, over the bound of {} ((prefetch {} + 1) x {})",
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

ChunkLoader::ChunkLoader(TileSource& source, std::vector<Tile> order, int64_t prefetch, ChunkCache* cache) {
  TS_REQUIRE_INPUT(prefetch >= 0, "[loader] prefetch must be >= 0, got {}", prefetch);
  impl_ = std::make_unique<Impl>(source, std::move(order), static_cast<size_t>(prefetch), cache);
  if (prefetch > 0) impl_->worker = std::thread([m = impl_.get()] { m->run(); });
}

ChunkLoader::~ChunkLoader() {
  const std::shared_ptr<LoaderState> st = impl_->st;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->stop = true;
  }
  st->cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();  // waits for the read in progress, if any
  std::deque<std::shared_ptr<const Chunk>> ready;      // released after the lock
  std::lock_guard<std::mutex> lock(st->mu);
  ready.swap(st->ready);
}

std::shared_ptr<const Chunk> ChunkLoader::next() {
  return impl_->prefetch == 0 ? impl_->next_sync() : impl_->next_async();
}

LoaderStats ChunkLoader::stats() const {
  std::lock_guard<std::mutex> lock(impl_->st->mu);
  return impl_->st->stats;
}

}  // namespace tickstream
