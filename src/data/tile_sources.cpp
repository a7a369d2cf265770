// Resident tiles and the loader's fault point.
#include "data/tile_sources.hpp"

#include "core/error.hpp"
#include "runtime/fault.hpp"

namespace tickstream {

void ResidentTiles::load(TileSource& from, const std::vector<Tile>& tiles) {
  for (const Tile& t : tiles) {
    auto c = from.read(t);
    bytes_ += c->bytes();
    chunks_[key(t)] = std::move(c);
  }
}

std::shared_ptr<const Chunk> ResidentTiles::read(const Tile& t) {
  const auto it = chunks_.find(key(t));
  TS_CHECK(it != chunks_.end(), "tile ({}, {}) is not resident", t.row_begin, t.bar_begin);
  return it->second;
}

std::vector<std::shared_ptr<const Chunk>> ResidentTiles::chunks() const {
  std::vector<std::shared_ptr<const Chunk>> out;
  for (const auto& [key, c] : chunks_) out.push_back(c);
  return out;
}

std::shared_ptr<const Chunk> FaultPointSource::read(const Tile& t) {
  maybe_inject_fault("loader_read", rank_);
  return inner_.read(t);
}

void FaultPointSource::read_into(const Tile& t, Chunk& out) {
  maybe_inject_fault("loader_read", rank_);
  inner_.read_into(t, out);
}

}  // namespace tickstream
