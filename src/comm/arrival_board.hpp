// Arrival board: rank 0 learns which collective each rank last entered, to name missing ranks.
#pragma once

#include <mpi.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "comm/comm_internal.hpp"
#include "comm/mpi_native.hpp"

namespace tickstream::comm::detail {

// Every rank sends (seq, call) to rank 0 with a small non-blocking message on a duplicate of the
// communicator each time it enters a collective; rank 0 keeps the last arrival of every rank.
// When a collective times out, rank 0 names the ranks whose last arrival is older than it; rank 0
// also compares each rank's call (kind, dtype, count, op, root) with its own for the same seq.
// All calls from the thread that owns the communicator.
class ArrivalBoard {
 public:
  // Collective over `comm`: duplicates it and agrees on an epoch that tags this board's messages.
  explicit ArrivalBoard(MPI_Comm comm);
  ~ArrivalBoard();
  ArrivalBoard(const ArrivalBoard&) = delete;
  ArrivalBoard& operator=(const ArrivalBoard&) = delete;

  // This rank enters `op` (op.seq must grow by one each call). Never blocks. Returns false when
  // rank 0 found that some rank's call differs from its own (see mismatch()).
  bool arrive(const OpInfo& op);
  // Rank 0: receives the arrivals that came in. Other ranks: sends an arrival still unsent.
  // Returns false on a mismatch.
  bool poll();
  const std::string& mismatch() const { return mismatch_; }

  // The message for `op` that did not complete within `timeout` (rank 0: the ranks that never
  // entered it; other ranks: that rank 0 did not report).
  std::string timeout_message(const OpInfo& op, std::chrono::milliseconds timeout);
  // How much longer a rank waits after its timeout for rank 0's report before it aborts itself:
  // none on rank 0, min(timeout, 5 s) elsewhere.
  std::chrono::milliseconds grace(std::chrono::milliseconds timeout) const;

 private:
  static constexpr int kTag = 0x7a5;
  static constexpr int kWords = 4;  // epoch, seq, count, packed kind/dtype/op/root
  static constexpr size_t kSendSlots = 8;
  static constexpr size_t kOwnHistory = 64;
  using Message = std::array<int64_t, kWords>;

  struct SendSlot {
    Message message{};
    MPI_Request request = MPI_REQUEST_NULL;
  };
  struct Arrival {
    int64_t seq = -1;
    OpInfo op;
  };

  Message encode(const OpInfo& op) const;
  static OpInfo decode(const Message& m);
  bool flush();
  bool drain();
  void gather_hosts();
  bool receive(int source, const OpInfo& op);
  bool compare(int source);
  std::string missing_message(const OpInfo& op, std::chrono::milliseconds timeout);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int64_t epoch_ = 0;
  std::string mismatch_;
  // Other ranks: a ring of send buffers, and the newest arrival not yet sent (all slots busy).
  std::array<SendSlot, kSendSlots> slots_{};
  size_t next_slot_ = 0;
  Message unsent_{};
  bool has_unsent_ = false;
  // Rank 0: the last arrival of every rank, its own recent calls, and ranks ahead of it.
  std::vector<Arrival> last_;
  std::vector<std::string> hosts_;  // every rank's host name (the missing ranks' hosts are named)
  std::array<OpInfo, kOwnHistory> own_{};
  int64_t own_seq_ = -1;
  std::vector<int> ahead_;
};

}  // namespace tickstream::comm::detail
