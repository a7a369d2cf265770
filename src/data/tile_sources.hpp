// Tile sources around a ChunkReader: tiles held in memory, and the fault point in front of reads.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <vector>

#include "data/chunk_loader.hpp"

namespace tickstream {

// Tiles held in memory: resident shards and the validation set.
class ResidentTiles final : public TileSource {
 public:
  // Reads `tiles` from `from` and keeps them.
  void load(TileSource& from, const std::vector<Tile>& tiles);
  std::shared_ptr<const Chunk> read(const Tile& t) override;
  size_t bytes() const { return bytes_; }
  std::vector<std::shared_ptr<const Chunk>> chunks() const;  // every tile held, in tile order

 private:
  static std::array<int64_t, 4> key(const Tile& t) { return {t.row_begin, t.rows, t.bar_begin, t.bars}; }
  std::map<std::array<int64_t, 4>, std::shared_ptr<const Chunk>> chunks_;
  size_t bytes_ = 0;
};

// A tile source with the fault point "loader_read" (TICKSTREAM_INJECT_FAULT, runtime/fault.hpp)
// in front of every read.
class FaultPointSource final : public TileSource {
 public:
  FaultPointSource(TileSource& inner, int rank) : inner_(inner), rank_(rank) {}
  std::shared_ptr<const Chunk> read(const Tile& t) override;
  void read_into(const Tile& t, Chunk& out) override;
  bool reads_into() const override { return inner_.reads_into(); }

 private:
  TileSource& inner_;
  int rank_;
};

}  // namespace tickstream
