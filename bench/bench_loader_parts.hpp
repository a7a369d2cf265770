// Pieces of `bench loader`: the plain-H5Dread reference, one timed loader pass, batch assembly timing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/chunk_loader.hpp"

namespace tickstream {

// One H5Dread (h5::read_slab) per dataset per tile, the same selections as ChunkReader, into
// buffers allocated once for the largest tile; each dataset opened with a chunk cache that holds
// the chunks of one tile (as ChunkReader sizes its own).
class SlabReference {
 public:
  SlabReference(const std::string& store, int64_t seq_len, const std::vector<Tile>& order);
  ~SlabReference();
  // Reads every tile of `order`; returns the seconds taken. `hashes`: per-tile checksums appended.
  double pass(const std::vector<Tile>& order, std::vector<uint64_t>* hashes);
  double bytes(const std::vector<Tile>& order) const;  // what one pass reads
  nlohmann::json chunk_shape() const;                  // of /features/values

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// FNV-1a (64-bit words) of a tile's four arrays, in the order of Chunk's members.
uint64_t chunk_checksum(const Chunk& c);

struct LoaderRun {
  double wall_s = 0;  // from the loader's construction to its last chunk consumed
  LoaderStats stats;
};

// One pass of a fresh ChunkLoader (no cache) over `order`, starting from the warm buffers in
// `spare` as training's next epoch does; the consumer busy-waits `compute_s` per chunk (0: does
// nothing). `hashes`: per-tile checksums appended.
LoaderRun loader_pass(ChunkReader& reader, const std::vector<Tile>& order, int64_t prefetch, double compute_s,
                      std::vector<uint64_t>* hashes, ChunkBufferPool& spare);

// (c) window_gather_reference of `batch` windows x seq_len x F from one resident chunk of
// `tile`, plus labels, into preallocated buffers: median and p99 ms over `batches` batches of
// random valid windows; sampled windows checked against a direct recomputation.
nlohmann::json assembly_figures(ChunkReader& reader, const Tile& tile, int64_t seq_len, int64_t batch,
                                int64_t batches);

}  // namespace tickstream
