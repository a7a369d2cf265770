// Shared by the communicator backends: operation descriptions, the abort path and the poll loop.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.hpp"

namespace tickstream::comm::detail {

enum class OpKind : uint8_t { allreduce, broadcast, allgather, barrier, allgatherv, alltoallv };

// What one collective is: enough to name it in a message and to compare it across ranks.
struct OpInfo {
  int64_t seq = 0;  // 0-based, counting every operation of the communicator
  OpKind kind = OpKind::barrier;
  DType dtype = DType::u8;
  int64_t count = 0;  // per rank (allgather: the send count; allgatherv: the total; alltoallv: -1)
  ReduceOp op = ReduceOp::sum;
  int root = -1;  // broadcast only

  bool same_call(const OpInfo& o) const {
    return kind == o.kind && dtype == o.dtype && count == o.count && op == o.op && root == o.root;
  }
};

inline OpInfo make_op(int64_t seq, OpKind kind, const Buffer& buffer, ReduceOp op = ReduceOp::sum,
                      int root = -1) {
  OpInfo info;
  info.seq = seq;
  info.kind = kind;
  info.dtype = buffer.dtype;
  info.count = buffer.count;
  info.op = op;
  info.root = root;
  return info;
}
// The buffer a barrier is described with.
inline Buffer no_buffer() { return Buffer{nullptr, 0, DType::u8, Memory::host, -1}; }

const char* reduce_op_name(ReduceOp op);
// "allreduce(f32 x 1024, sum)", "broadcast(i64 x 3, root 1)", "allgather(u8 x 8 per rank)",
// "barrier".
std::string describe_call(const OpInfo& op);
// "collective #7 allreduce(f32 x 1024, sum)".
std::string describe(const OpInfo& op);
// Seconds for messages: "0.2 s", "300 s".
std::string seconds_text(std::chrono::milliseconds t);

// Checks shared by every backend (InternalError on a caller bug).
void check_allreduce(const Buffer& buffer, ReduceOp op, Memory expected);
void check_broadcast(const Buffer& buffer, int root, int size, Memory expected);
void check_allgather(const Buffer& send, const Buffer& recv, int size, Memory expected);
void check_allgatherv(const Buffer& send, const Buffer& recv, const std::vector<int64_t>& counts,
                      int rank, Memory expected);
void check_alltoallv(const Buffer& send, const std::vector<int64_t>& send_counts, const Buffer& recv,
                     const std::vector<int64_t>& recv_counts, int size, Memory expected);
// The call descriptions of the variable-size collectives (count: total, or -1 for alltoallv).
OpInfo make_v_op(int64_t seq, OpKind kind, DType dtype, int64_t count);

// Prints "error: rank R on HOST: MESSAGE" (unless `printed` is already set, then sets it), calls
// options.on_abort when set (it may throw), else MPI_Abort(MPI_COMM_WORLD) when MPI is running,
// else std::_Exit. Never returns normally.
[[noreturn]] void abort_job(const CommOptions& options, bool& printed, const std::string& message,
                            int exit_code);

// Polls `done()` (calling `between()` after each miss) until it returns true or `budget` has passed.
// Busy for the first 10 ms (MPI progresses a non-blocking collective only inside MPI calls, so
// sleeping would stall every round of it), yielding the core after 200 us; then sleeps with a
// growing pause of at most 1 ms.
template <typename Done, typename Between>
bool poll_until(Done&& done, Between&& between, std::chrono::milliseconds budget) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + budget;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    if (done()) return true;
    between();
    const auto now = Clock::now();
    if (now >= deadline) return done();
    const auto waited = now - start;
    if (waited > std::chrono::milliseconds(10)) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    } else if (waited > std::chrono::microseconds(200)) {
      std::this_thread::yield();
    }
  }
}

}  // namespace tickstream::comm::detail
