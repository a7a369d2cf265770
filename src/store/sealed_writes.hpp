// Every rank's sealed chunks of one dataset written by one writer, rank 0 (serial HDF5, no filter
// pipeline and no MPI-IO): the ranks fill and checksum their own rows in parallel, rank 0 writes
// its own chunks, then each other rank's in rank order with one rank's bytes in flight at a time.
#pragma once

#include <functional>

#include "comm/communicator.hpp"
#include "store/raw_chunks.hpp"

namespace tickstream {

// Collective. `write` runs on rank 0 only, once per rank's block (rank order); it should capture
// its own failure (the transfers go on, so no rank waits on a writer that has stopped).
void write_on_root(comm::Communicator& comm, const RawChunks& mine, const std::function<void(const ChunkBlock&)>& write);

}  // namespace tickstream
