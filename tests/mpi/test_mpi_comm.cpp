// MPI communicator backend: collectives with closed-form results, async ordering, progress(),
// timeouts that name the missing ranks, call mismatches, and per-operation overhead.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "comm/communicator.hpp"
#include "comm/mpi_native.hpp"
#include "core/error.hpp"
#include "mpi/mpi_test.hpp"

namespace tickstream::comm {
namespace {

using Clock = std::chrono::steady_clock;
using tickstream::testing::MpiTest;

// What a throwing on_abort hook raises, so tests can observe the abort message.
struct Aborted {
  std::string message;
  int code;
};

CommOptions throwing_options(std::chrono::milliseconds timeout) {
  CommOptions options;
  options.timeout = timeout;
  options.on_abort = [](const std::string& message, int code) { throw Aborted{message, code}; };
  return options;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Rank r contributes r + 1 + i + shift at index i; the reductions over n ranks in closed form.
template <typename T>
std::vector<T> contribution(int rank, size_t count, int shift = 0) {
  std::vector<T> v(count);
  for (size_t i = 0; i < count; ++i) v[i] = static_cast<T>(rank + 1 + static_cast<int>(i) + shift);
  return v;
}
double expected(ReduceOp op, int n, size_t i, int shift = 0) {
  const double base = static_cast<double>(i) + shift;
  switch (op) {
    case ReduceOp::sum: return n * (n + 1) / 2.0 + n * base;
    case ReduceOp::avg: return (n + 1) / 2.0 + base;
    case ReduceOp::max: return n + base;
    case ReduceOp::min: return 1 + base;
  }
  return 0;
}
template <typename T>
void expect_reduced(const std::vector<T>& v, ReduceOp op, int n, int shift = 0) {
  size_t bad = 0, first = v.size();
  for (size_t i = 0; i < v.size(); ++i) {
    if (static_cast<double>(v[i]) != expected(op, n, i, shift)) {
      ++bad;
      first = std::min(first, i);
    }
  }
  EXPECT_EQ(bad, 0u) << "op " << static_cast<int>(op) << ": first wrong index " << first
                     << " holds " << (bad ? static_cast<double>(v[first]) : 0.0) << ", expected "
                     << expected(op, n, first, shift);
}

template <typename T>
class MpiCommAllreduce : public MpiTest {};
using ReduceTypes = ::testing::Types<float, double, int32_t, int64_t>;
TYPED_TEST_SUITE(MpiCommAllreduce, ReduceTypes);

TYPED_TEST(MpiCommAllreduce, SumAvgMaxMin) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  EXPECT_STREQ(c->backend(), "mpi");
  EXPECT_EQ(c->rank(), this->rank());
  EXPECT_EQ(c->size(), this->size());
  EXPECT_EQ(c->memory(), Memory::host);
  constexpr bool floating = std::is_floating_point_v<TypeParam>;
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min}) {
    auto v = contribution<TypeParam>(this->rank(), 1000);
    if (op == ReduceOp::avg && !floating) {
      EXPECT_THROW(c->allreduce(host_buffer(v), op), InternalError);
      continue;
    }
    c->allreduce(host_buffer(v), op);
    expect_reduced(v, op, this->size());
  }
}

class MpiComm : public MpiTest {};

TEST_F(MpiComm, LargeBuffers) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  const size_t count = 3'000'000;
  const int n = size();
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::avg}) {
    std::vector<float> v(count);
    for (size_t i = 0; i < count; ++i)
      v[i] = static_cast<float>((rank() + 1) * static_cast<int>(i % 7));
    c->allreduce(host_buffer(v), op);
    const double per_unit = op == ReduceOp::sum ? n * (n + 1) / 2.0 : (n + 1) / 2.0;
    size_t bad = 0;
    for (size_t i = 0; i < count; ++i) bad += static_cast<double>(v[i]) != per_unit * (i % 7);
    EXPECT_EQ(bad, 0u) << "op " << static_cast<int>(op);
  }
}

// Several operations of every kind in flight at once, waited in reverse order of launch.
TEST_F(MpiComm, AsyncOperationsWaitedInReverse) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  const int n = size();
  const ReduceOp ops[] = {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::avg};
  std::vector<std::vector<double>> buffers;
  for (int k = 0; k < 8; ++k) buffers.push_back(contribution<double>(rank(), 100 * (k + 1), k));
  std::vector<int64_t> bcast(50, rank() == n - 1 ? 42 : -1);
  std::vector<int32_t> send{rank(), 10 * rank()}, gathered(2 * static_cast<size_t>(n), -1);
  std::vector<std::unique_ptr<Work>> works;
  for (int k = 0; k < 8; ++k) {
    works.push_back(c->allreduce_async(host_buffer(buffers[static_cast<size_t>(k)]), ops[k % 4]));
    if (k == 3) works.push_back(c->broadcast_async(host_buffer(bcast), n - 1));
    if (k == 5) works.push_back(c->allgather_async(host_buffer(send), host_buffer(gathered)));
  }
  for (auto it = works.rbegin(); it != works.rend(); ++it) (*it)->wait();
  for (const auto& w : works) EXPECT_TRUE(w->test());
  for (int k = 0; k < 8; ++k) expect_reduced(buffers[static_cast<size_t>(k)], ops[k % 4], n, k);
  EXPECT_EQ(bcast, std::vector<int64_t>(50, 42));
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(gathered[2 * static_cast<size_t>(r)], r);
    EXPECT_EQ(gathered[2 * static_cast<size_t>(r) + 1], 10 * r);
  }
}

TEST_F(MpiComm, BroadcastFromEveryRoot) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  for (int root = 0; root < size(); ++root) {
    std::vector<int64_t> ints(33, -7);
    std::vector<float> floats(17, -7.0f);
    if (rank() == root) {
      for (size_t i = 0; i < ints.size(); ++i) ints[i] = 1000 * root + static_cast<int64_t>(i);
      for (size_t i = 0; i < floats.size(); ++i) floats[i] = 0.5f * static_cast<float>(root + i);
    }
    c->broadcast(host_buffer(ints), root);
    c->broadcast(host_buffer(floats), root);
    for (size_t i = 0; i < ints.size(); ++i)
      ASSERT_EQ(ints[i], 1000 * root + static_cast<int64_t>(i)) << "root " << root;
    for (size_t i = 0; i < floats.size(); ++i)
      ASSERT_EQ(floats[i], 0.5f * static_cast<float>(root + i)) << "root " << root;
  }
}

TEST_F(MpiComm, Allgather) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  const size_t n = static_cast<size_t>(size()), per = 5;
  std::vector<double> send(per), recv(n * per, -1.0);
  for (size_t i = 0; i < per; ++i) send[i] = 10.0 * rank() + static_cast<double>(i);
  c->allgather(host_buffer(send), host_buffer(recv));
  for (size_t r = 0; r < n; ++r)
    for (size_t i = 0; i < per; ++i) EXPECT_EQ(recv[r * per + i], 10.0 * r + i);
  // In place: this rank's send is its own slot of recv.
  std::vector<uint8_t> all(n * 3, 0);
  uint8_t* mine = all.data() + static_cast<size_t>(rank()) * 3;
  for (size_t i = 0; i < 3; ++i) mine[i] = static_cast<uint8_t>(rank() * 3 + i + 1);
  c->allgather(host_buffer(mine, 3), host_buffer(all));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
}

TEST_F(MpiComm, BarrierWaitsForTheLastRank) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  c->barrier();
  const auto start = Clock::now();
  if (rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c->barrier();
  if (rank() != 0) {
    EXPECT_GE(seconds_since(start), 0.25) << "the barrier did not wait for rank 0";
  }
}

// progress() alone drives and completes outstanding operations: it applies each avg's division,
// which happens only when the backend sees the operation complete.
TEST_F(MpiComm, ProgressCompletesOutstandingOperations) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  const int n = size();
  std::vector<std::vector<double>> buffers;
  std::vector<std::unique_ptr<Work>> works;
  for (int k = 0; k < 64; ++k) buffers.push_back(contribution<double>(rank(), 1000, k));
  for (auto& b : buffers) works.push_back(c->allreduce_async(host_buffer(b), ReduceOp::avg));
  const auto averaged = [&] {
    for (size_t k = 0; k < buffers.size(); ++k)
      for (size_t i = 0; i < buffers[k].size(); ++i)
        if (buffers[k][i] != expected(ReduceOp::avg, n, i, static_cast<int>(k))) return false;
    return true;
  };
  const auto start = Clock::now();
  bool done = false;
  while (!done && seconds_since(start) < 20) {
    c->progress();
    done = averaged();
  }
  EXPECT_TRUE(done) << "progress() did not complete 64 operations in 20 s";
  for (auto& w : works) w->wait();  // complete already: no second division
  for (size_t k = 0; k < buffers.size(); ++k)
    expect_reduced(buffers[k], ReduceOp::avg, n, static_cast<int>(k));
}

TEST_F(MpiComm, DroppedWorkCompletesBeforeItsBufferGoes) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  auto v = contribution<int32_t>(rank(), 64);
  { auto work = c->allreduce_async(host_buffer(v), ReduceOp::sum); }
  expect_reduced(v, ReduceOp::sum, size());
}

// Caller bugs are caught before the operation is entered: later operations still line up.
TEST_F(MpiComm, RejectsBadCallsBeforeEntering) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, throwing_options(std::chrono::milliseconds(20'000)));
  std::vector<float> v(4, 1.0f);
  Buffer device = host_buffer(v);
  device.memory = Memory::cuda;
  device.device = 0;
  EXPECT_THROW(c->allreduce_async(device, ReduceOp::sum), InternalError);
  std::vector<int64_t> ints(4, 1);
  EXPECT_THROW(c->allreduce_async(host_buffer(ints), ReduceOp::avg), InternalError);
  EXPECT_THROW(c->broadcast_async(host_buffer(v), size()), InternalError);
  std::vector<float> short_recv(4 * static_cast<size_t>(size()) - 1);
  EXPECT_THROW(c->allgather_async(host_buffer(v), host_buffer(short_recv)), InternalError);
  c->allreduce(host_buffer(v), ReduceOp::sum);
  EXPECT_EQ(v, std::vector<float>(4, static_cast<float>(size())));
}

// Rank 0 times out on a collective the other ranks have not entered and names them.
TEST_F(MpiComm, TimeoutNamesTheMissingRanks) {
  if (size() < 2) GTEST_SKIP() << "needs at least 2 ranks";
  auto c = make_mpi_communicator(MPI_COMM_WORLD, throwing_options(std::chrono::milliseconds(300)));
  std::vector<float> v(8, 1.0f);
  c->allreduce(host_buffer(v), ReduceOp::sum);  // #0 on every rank
  if (rank() == 0) {
    auto work = c->allreduce_async(host_buffer(v), ReduceOp::sum);  // #1, alone
    std::string message;
    const auto start = Clock::now();
    try {
      work->wait();
    } catch (const Aborted& a) {
      message = a.message;
    }
    EXPECT_GE(seconds_since(start), 0.29);
    char host[64] = {0};  // every rank of this test runs here: the missing ranks' host is ours
    gethostname(host, sizeof(host) - 1);
    const std::string expected_message =
        size() == 2
            ? fmt::format("collective #1 allreduce(f32 x 8, sum) did not complete within 0.3 s: rank 1 ({}) "
                          "never entered it (its last collective: #0)", host)
            : fmt::format("collective #1 allreduce(f32 x 8, sum) did not complete within 0.3 s: ranks 1 ({}), "
                          "2 ({}) never entered it (their last collectives: #0, #0)", host, host);
    EXPECT_EQ(message, expected_message);
    MPI_Barrier(MPI_COMM_WORLD);
    work->wait();  // the others enter #1 now
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
    c->allreduce(host_buffer(v), ReduceOp::sum);
  }
  const float n = static_cast<float>(size());
  EXPECT_EQ(v, std::vector<float>(8, n * n));
}

// When rank 0 is the missing rank nobody holds a report: the others abort after a grace period.
TEST_F(MpiComm, TimeoutWithoutRankZeroAbortsAfterGrace) {
  if (size() < 2) GTEST_SKIP() << "needs at least 2 ranks";
  auto c = make_mpi_communicator(MPI_COMM_WORLD, throwing_options(std::chrono::milliseconds(300)));
  std::vector<int64_t> v(3, 2);
  c->barrier();  // #0
  if (rank() != 0) {
    auto work = c->allreduce_async(host_buffer(v), ReduceOp::max);  // #1, without rank 0
    std::string message;
    const auto start = Clock::now();
    try {
      work->wait();
    } catch (const Aborted& a) {
      message = a.message;
    }
    EXPECT_GE(seconds_since(start), 0.59) << "timeout 0.3 s plus grace 0.3 s";
    EXPECT_EQ(message,
              "collective #1 allreduce(i64 x 3, max) did not complete within 0.3 s on rank " +
                  std::to_string(rank()) +
                  "; rank 0 holds the arrival board and did not report the missing ranks "
                  "within 0.3 s more (rank 0 may be the missing rank)");
    MPI_Barrier(MPI_COMM_WORLD);
    work->wait();
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
    c->allreduce(host_buffer(v), ReduceOp::max);
  }
  EXPECT_EQ(v, std::vector<int64_t>(3, 2));
}

// Rank 0 compares every rank's call with its own for the same collective.
TEST_F(MpiComm, MismatchedCallIsReported) {
  if (size() < 2) GTEST_SKIP() << "needs at least 2 ranks";
  auto c = make_mpi_communicator(MPI_COMM_WORLD, throwing_options(std::chrono::milliseconds(20'000)));
  std::vector<float> v(8, 1.0f);
  // Rank 0 enters first, so that it finds the difference when rank 1's arrival comes in.
  if (rank() != 0) MPI_Barrier(MPI_COMM_WORLD);
  auto work = c->allreduce_async(host_buffer(v), rank() == 1 ? ReduceOp::max : ReduceOp::sum);
  std::string message;
  if (rank() == 0) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = Clock::now();
    while (message.empty() && seconds_since(start) < 10) {
      try {
        c->progress();
      } catch (const Aborted& a) {
        message = a.message;
      }
    }
    EXPECT_EQ(
        message,
        "collective #0: rank 1 called allreduce(f32 x 8, max) but rank 0 called allreduce(f32 "
        "x 8, sum)");
  }
  work->wait();
}

// Per-operation cost next to a plain blocking MPI_Allreduce of the same size, measured side by
// side.
TEST_F(MpiComm, SmallAllreduceOverhead) {
  auto c = make_mpi_communicator(MPI_COMM_WORLD, CommOptions{});
  MPI_Comm raw = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &raw);
  constexpr int kOps = 1000;
  std::vector<float> v(1, 1.0f);
  double raw_s = 0, comm_s = 0;
  for (int round = 0; round < 3; ++round) {
    MPI_Barrier(raw);
    auto start = Clock::now();
    for (int i = 0; i < kOps; ++i)
      MPI_Allreduce(MPI_IN_PLACE, v.data(), 1, MPI_FLOAT, MPI_MAX, raw);
    raw_s += seconds_since(start);
    MPI_Barrier(raw);
    start = Clock::now();
    for (int i = 0; i < kOps; ++i) c->allreduce(host_buffer(v), ReduceOp::max);
    comm_s += seconds_since(start);
  }
  MPI_Comm_free(&raw);
  EXPECT_EQ(v[0], 1.0f);
  if (rank() == 0)
    std::printf(
        "[ overhead ] %d ranks, 1-float allreduce: MPI_Allreduce %.2f us, comm %.2f us per op\n",
        size(), raw_s / (3 * kOps) * 1e6, comm_s / (3 * kOps) * 1e6);
}

}  // namespace
}  // namespace tickstream::comm
