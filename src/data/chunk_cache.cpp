// ChunkCache: LRU of decoded chunks under a byte budget, keyed by tile, with hit and miss counts.
#include <array>
#include <iterator>
#include <list>
#include <map>
#include <mutex>

#include "data/chunk_loader.hpp"

namespace tickstream {
namespace {

using TileKey = std::array<int64_t, 4>;

TileKey key_of(const Tile& t) { return {t.row_begin, t.rows, t.bar_begin, t.bars}; }

}  // namespace

struct ChunkCache::Impl {
  size_t budget = 0;
  mutable std::mutex mu;
  std::list<std::shared_ptr<const Chunk>> lru;  // most recently used first
  std::map<TileKey, std::list<std::shared_ptr<const Chunk>>::iterator> index;
  size_t bytes = 0;
  int64_t hits = 0, misses = 0;
};

ChunkCache::ChunkCache(size_t budget_bytes) : impl_(std::make_shared<Impl>()) {
  impl_->budget = budget_bytes;
}

std::shared_ptr<const Chunk> ChunkCache::get(const Tile& tile) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto it = impl_->index.find(key_of(tile));
  if (it == impl_->index.end()) {
    ++impl_->misses;
    return nullptr;
  }
  ++impl_->hits;
  impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
  return *it->second;
}

void ChunkCache::put(const std::shared_ptr<const Chunk>& chunk) {
  if (!chunk) return;
  const size_t size = chunk->bytes();
  std::list<std::shared_ptr<const Chunk>> evicted;  // released after the lock: deleters may lock
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    Impl& m = *impl_;
    if (size > m.budget) return;
    const TileKey key = key_of(chunk->tile);
    const auto old = m.index.find(key);
    if (old != m.index.end()) {
      m.bytes -= (*old->second)->bytes();
      evicted.splice(evicted.end(), m.lru, old->second);
      m.index.erase(old);
    }
    m.lru.push_front(chunk);
    m.index[key] = m.lru.begin();
    m.bytes += size;
    while (m.bytes > m.budget) {
      const auto last = std::prev(m.lru.end());
      m.bytes -= (*last)->bytes();
      m.index.erase(key_of((*last)->tile));
      evicted.splice(evicted.end(), m.lru, last);
    }
  }
}

int64_t ChunkCache::hits() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hits;
}

int64_t ChunkCache::misses() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->misses;
}

size_t ChunkCache::bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->bytes;
}

}  // namespace tickstream
