// Arrival board: non-blocking arrival messages to rank 0, drained there, and timeout diagnosis.
#include "comm/arrival_board.hpp"

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/error.hpp"

namespace tickstream::comm::detail {

ArrivalBoard::ArrivalBoard(MPI_Comm comm) {
  TS_CHECK_MPI(MPI_Comm_dup(comm, &comm_));
  TS_CHECK_MPI(MPI_Comm_rank(comm_, &rank_));
  TS_CHECK_MPI(MPI_Comm_size(comm_, &size_));
  // Messages of an earlier board whose communicator id was reused carry another epoch.
  epoch_ = rank_ == 0 ? std::chrono::steady_clock::now().time_since_epoch().count() : 0;
  TS_CHECK_MPI(MPI_Bcast(&epoch_, 1, MPI_INT64_T, 0, comm_));
  if (rank_ == 0) {
    last_.resize(static_cast<size_t>(size_));
    ahead_.reserve(static_cast<size_t>(size_));
  }
  gather_hosts();
}

// Every rank's host name to rank 0, which names the hosts of missing ranks.
void ArrivalBoard::gather_hosts() {
  constexpr int kName = 64;
  std::array<char, kName> mine{};
  const std::string host = host_name();
  host.copy(mine.data(), kName - 1);
  std::vector<char> all(rank_ == 0 ? static_cast<size_t>(size_) * kName : 0);
  TS_CHECK_MPI(MPI_Gather(mine.data(), kName, MPI_CHAR, all.data(), kName, MPI_CHAR, 0, comm_));
  for (int r = 0; rank_ == 0 && r < size_; ++r)
    hosts_.emplace_back(all.data() + static_cast<size_t>(r) * kName,
                        strnlen(all.data() + static_cast<size_t>(r) * kName, kName));
}

ArrivalBoard::~ArrivalBoard() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized || comm_ == MPI_COMM_NULL) return;
  if (rank_ == 0) {
    mismatch_.clear();
    try {
      drain();
    } catch (...) {  // a destructor must not throw; the messages are only diagnostics
    }
  }
  for (SendSlot& slot : slots_) {
    int done = 1;
    if (slot.request != MPI_REQUEST_NULL) MPI_Test(&slot.request, &done, MPI_STATUS_IGNORE);
    if (!done) MPI_Request_free(&slot.request);  // completes in the background
  }
  MPI_Comm_free(&comm_);
}

ArrivalBoard::Message ArrivalBoard::encode(const OpInfo& op) const {
  const int64_t packed = static_cast<int64_t>(op.kind) | static_cast<int64_t>(op.dtype) << 8 |
                         static_cast<int64_t>(op.op) << 16 |
                         static_cast<int64_t>(op.root + 1) << 24;
  return Message{epoch_, op.seq, op.count, packed};
}

OpInfo ArrivalBoard::decode(const Message& m) {
  OpInfo op;
  op.seq = m[1];
  op.count = m[2];
  op.kind = static_cast<OpKind>(m[3] & 0xff);
  op.dtype = static_cast<DType>((m[3] >> 8) & 0xff);
  op.op = static_cast<ReduceOp>((m[3] >> 16) & 0xff);
  op.root = static_cast<int>(m[3] >> 24) - 1;
  return op;
}

bool ArrivalBoard::arrive(const OpInfo& op) {
  if (rank_ != 0) {
    unsent_ = encode(op);
    has_unsent_ = true;
    return flush();
  }
  own_seq_ = op.seq;
  own_[static_cast<size_t>(op.seq) % kOwnHistory] = op;
  bool ok = true;
  for (size_t i = 0; i < ahead_.size();) {  // ranks that entered this seq before rank 0 did
    const int r = ahead_[i];
    if (last_[static_cast<size_t>(r)].seq > own_seq_) {
      ++i;
      continue;
    }
    if (last_[static_cast<size_t>(r)].seq == own_seq_ && !compare(r)) ok = false;
    ahead_[i] = ahead_.back();
    ahead_.pop_back();
  }
  return drain() && ok;
}

bool ArrivalBoard::poll() { return rank_ == 0 ? drain() : flush(); }

// Sends the unsent arrival through the first free slot; when every slot is still in flight the
// arrival stays unsent (a newer one replaces it) and the next call tries again.
bool ArrivalBoard::flush() {
  if (!has_unsent_) return true;
  for (size_t tried = 0; tried < kSendSlots; ++tried) {
    SendSlot& slot = slots_[next_slot_];
    next_slot_ = (next_slot_ + 1) % kSendSlots;
    int free_slot = 1;
    if (slot.request != MPI_REQUEST_NULL)
      TS_CHECK_MPI(MPI_Test(&slot.request, &free_slot, MPI_STATUS_IGNORE));
    if (!free_slot) continue;
    slot.message = unsent_;
    TS_CHECK_MPI(
        MPI_Isend(slot.message.data(), kWords, MPI_INT64_T, 0, kTag, comm_, &slot.request));
    has_unsent_ = false;
    return true;
  }
  return true;
}

bool ArrivalBoard::drain() {
  bool ok = true;
  for (;;) {
    int flag = 0;
    MPI_Status status;
    TS_CHECK_MPI(MPI_Iprobe(MPI_ANY_SOURCE, kTag, comm_, &flag, &status));
    if (!flag) return ok;
    Message m{};
    TS_CHECK_MPI(
        MPI_Recv(m.data(), kWords, MPI_INT64_T, status.MPI_SOURCE, kTag, comm_, MPI_STATUS_IGNORE));
    if (m[0] != epoch_) continue;
    if (!receive(status.MPI_SOURCE, decode(m))) ok = false;
  }
}

bool ArrivalBoard::receive(int source, const OpInfo& op) {
  Arrival& a = last_[static_cast<size_t>(source)];
  const bool was_ahead = a.seq > own_seq_;
  a.seq = op.seq;
  a.op = op;
  if (op.seq <= own_seq_) return compare(source);
  if (!was_ahead) ahead_.push_back(source);
  return true;
}

bool ArrivalBoard::compare(int source) {
  const Arrival& a = last_[static_cast<size_t>(source)];
  if (a.seq > own_seq_ || a.seq <= own_seq_ - static_cast<int64_t>(kOwnHistory)) return true;
  const OpInfo& mine = own_[static_cast<size_t>(a.seq) % kOwnHistory];
  if (a.op.same_call(mine)) return true;
  if (mismatch_.empty())
    mismatch_ = fmt::format("collective #{}: rank {} called {} but rank 0 called {}", a.seq, source,
                            describe_call(a.op), describe_call(mine));
  return false;
}

std::chrono::milliseconds ArrivalBoard::grace(std::chrono::milliseconds timeout) const {
  if (rank_ == 0) return std::chrono::milliseconds(0);
  return std::min(timeout, std::chrono::milliseconds(5000));
}

std::string ArrivalBoard::timeout_message(const OpInfo& op, std::chrono::milliseconds timeout) {
  if (!poll()) return mismatch_;
  if (rank_ == 0) return missing_message(op, timeout);
  return fmt::format(
      "{} did not complete within {} on rank {}; rank 0 holds the arrival board and did not report "
      "the missing ranks within {} more (rank 0 may be the missing rank)",
      describe(op), seconds_text(timeout), rank_, seconds_text(grace(timeout)));
}

std::string ArrivalBoard::missing_message(const OpInfo& op, std::chrono::milliseconds timeout) {
  std::vector<std::string> missing;
  std::string last_seen;
  for (int r = 1; r < size_; ++r) {
    const int64_t seq = last_[static_cast<size_t>(r)].seq;
    if (seq >= op.seq) continue;
    missing.push_back(fmt::format("{} ({})", r, hosts_[static_cast<size_t>(r)]));
    last_seen += fmt::format("{}{}", last_seen.empty() ? "" : ", ",
                             seq < 0 ? std::string("none") : fmt::format("#{}", seq));
  }
  const std::string head =
      fmt::format("{} did not complete within {}", describe(op), seconds_text(timeout));
  if (missing.empty())
    return head +
           ", though every rank entered it: a rank stopped making progress inside it "
           "(not waiting on it) or the network stalled";
  if (missing.size() == 1)
    return fmt::format("{}: rank {} never entered it (its last collective: {})", head, missing[0],
                       last_seen);
  return fmt::format("{}: ranks {} never entered it (their last collectives: {})", head,
                     fmt::join(missing, ", "), last_seen);
}

}  // namespace tickstream::comm::detail
