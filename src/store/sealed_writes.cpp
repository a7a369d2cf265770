// Sealed chunks shipped to rank 0 rank by rank (a pairwise alltoallv each) and written there.
#include "store/sealed_writes.hpp"

#include "comm/collectives.hpp"

namespace tickstream {

void write_on_root(comm::Communicator& comm, const RawChunks& mine, const std::function<void(const ChunkBlock&)>& write) {
  const ChunkBlock own = mine.block();
  const std::vector<int64_t> begins = comm::allgatherv(comm, std::vector<int64_t>{own.row_begin});
  const std::vector<int64_t> rows = comm::allgatherv(comm, std::vector<int64_t>{own.rows});
  const bool root = comm.rank() == 0;
  if (root) write(own);
  const auto n = static_cast<size_t>(comm.size());
  std::vector<uint8_t> recv;
  for (size_t r = 1; r < n; ++r) {
    const ChunkBlock theirs{own.grid, begins[r], rows[r], own.value_bytes, nullptr};
    std::vector<int64_t> send_counts(n, 0), recv_counts(n, 0);
    if (comm.rank() == static_cast<int>(r)) send_counts[0] = static_cast<int64_t>(own.bytes());
    if (root) recv_counts[r] = static_cast<int64_t>(theirs.bytes()), recv.resize(theirs.bytes());
    comm.alltoallv_async(comm::host_buffer(own.data, static_cast<size_t>(send_counts[0])), send_counts,
                         comm::host_buffer(recv.data(), static_cast<size_t>(recv_counts[r])), recv_counts)
        ->wait();
    if (!root) continue;
    ChunkBlock received = theirs;
    received.data = recv.data();
    write(received);
  }
}

}  // namespace tickstream
