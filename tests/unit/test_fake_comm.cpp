// Fake communicator (identity collectives, injected failures and hangs) and backend choice.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "comm/communicator.hpp"
#include "core/error.hpp"

namespace tickstream::comm {
namespace {

// What a throwing on_abort hook raises, so tests can observe the abort message.
struct Aborted {
  std::string message;
  int code;
};

CommOptions throwing_options(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
  CommOptions options;
  options.timeout = timeout;
  options.on_abort = [](const std::string& message, int code) { throw Aborted{message, code}; };
  return options;
}

TEST(FakeComm, Identity) {
  auto comm = make_fake_communicator(CommOptions{});
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_STREQ(comm->backend(), "fake");
  EXPECT_EQ(comm->memory(), Memory::host);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::avg, ReduceOp::max, ReduceOp::min}) {
    std::vector<float> v{1.5f, -2.0f, 3.25f};
    comm->allreduce(host_buffer(v), op);
    EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f, 3.25f})) << static_cast<int>(op);
  }
  std::vector<int64_t> ints{7, -8, 9};
  comm->allreduce(host_buffer(ints), ReduceOp::max);
  EXPECT_EQ(ints, (std::vector<int64_t>{7, -8, 9}));
  std::vector<double> b{0.25, 4.0};
  comm->broadcast(host_buffer(b), 0);
  EXPECT_EQ(b, (std::vector<double>{0.25, 4.0}));
  std::vector<int32_t> send{4, 5, 6}, recv(3, -1);
  comm->allgather(host_buffer(send), host_buffer(recv));
  EXPECT_EQ(recv, send);
  comm->barrier();
  auto work = comm->allreduce_async(host_buffer(b), ReduceOp::sum);
  EXPECT_TRUE(work->test());
  work->wait();
}

TEST(FakeComm, RejectsBadBuffers) {
  auto comm = make_fake_communicator(CommOptions{});
  std::vector<int32_t> ints{1, 2};
  EXPECT_THROW(comm->allreduce(host_buffer(ints), ReduceOp::avg), InternalError);
  Buffer device = host_buffer(ints);
  device.memory = Memory::cuda;
  EXPECT_THROW(comm->allreduce(device, ReduceOp::sum), InternalError);
  std::vector<int32_t> small(1);
  EXPECT_THROW(comm->allgather(host_buffer(ints), host_buffer(small)), InternalError);
  EXPECT_THROW(comm->broadcast(host_buffer(ints), 1), InternalError);
}

// Operations are counted from 0 over every kind: the fail_at-th one aborts.
TEST(FakeComm, FailAtCountsEveryOperation) {
  FakeOptions fake;
  fake.fail_at = 3;
  fake.fail_message = "injected at op 3";
  auto comm = make_fake_communicator(throwing_options(), fake);
  std::vector<float> v{1.0f};
  comm->allreduce(host_buffer(v), ReduceOp::sum);  // 0
  comm->broadcast(host_buffer(v), 0);              // 1
  comm->barrier();                                 // 2
  try {
    comm->allgather(host_buffer(v), host_buffer(v));  // 3
    FAIL() << "operation 3 did not abort";
  } catch (const Aborted& a) {
    EXPECT_EQ(a.message, "injected at op 3");
    EXPECT_EQ(a.code, 1);
  }
}

TEST(FakeCommDeathTest, FailAtDefaultAbortEndsTheProcess) {
  FakeOptions fake;
  fake.fail_at = 1;
  fake.fail_message = "boom from the fake";
  EXPECT_EXIT(
      {
        auto comm = make_fake_communicator(CommOptions{}, fake);
        std::vector<double> v{1.0};
        comm->allreduce(host_buffer(v), ReduceOp::sum);
        comm->allreduce(host_buffer(v), ReduceOp::sum);
      },
      ::testing::ExitedWithCode(1), "error: rank -1 on .*: boom from the fake");
}

TEST(FakeComm, HangTimesOutAndNamesTheOperation) {
  FakeOptions fake;
  fake.hang_at = 1;
  auto comm = make_fake_communicator(throwing_options(std::chrono::milliseconds(200)), fake);
  std::vector<float> v(16, 1.0f);
  comm->barrier();                                                   // 0
  auto work = comm->allreduce_async(host_buffer(v), ReduceOp::avg);  // 1 hangs
  EXPECT_FALSE(work->test());
  const auto start = std::chrono::steady_clock::now();
  try {
    work->wait();
    FAIL() << "the hanging operation completed";
  } catch (const Aborted& a) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(waited, 0.19);
    EXPECT_LT(waited, 5.0);
    EXPECT_EQ(a.message,
              "collective #1 allreduce(f32 x 16, avg) did not complete within 0.2 s: it timed out "
              "on rank 0 (the only rank)");
    EXPECT_EQ(a.code, 1);
  }
  comm->barrier();  // operation 2 completes again
}

TEST(FakeCommDeathTest, HangDefaultAbortEndsTheProcess) {
  FakeOptions fake;
  fake.hang_at = 0;
  CommOptions options;
  options.timeout = std::chrono::milliseconds(200);
  EXPECT_EXIT(make_fake_communicator(options, fake)->barrier(), ::testing::ExitedWithCode(1),
              "collective #0 barrier did not complete within 0.2 s");
}

TEST(ResolveBackend, Table) {
  struct Row {
    const char* configured;
    bool cuda;
    bool built;
    const char* expected;
  };
  const Row rows[] = {
      {"auto", true, true, "nccl"},  {"auto", true, false, "mpi"}, {"auto", false, true, "mpi"},
      {"auto", false, false, "mpi"}, {"mpi", false, true, "mpi"},  {"mpi", false, false, "mpi"},
      {"nccl", true, true, "nccl"},
  };
  for (const Row& r : rows)
    EXPECT_EQ(resolve_backend(r.configured, r.cuda, r.built), r.expected)
        << r.configured << " cuda=" << r.cuda << " built=" << r.built;
}

void expect_input_error(const std::string& configured, bool cuda, bool built,
                        const std::string& part) {
  try {
    resolve_backend(configured, cuda, built);
    ADD_FAILURE() << configured << ": no InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("[dist] backend"), std::string::npos) << what;
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), kExitInput);
  }
}

TEST(ResolveBackend, InputErrors) {
  expect_input_error("nccl", false, true, "no GPU");
  expect_input_error("nccl", true, false, "no NCCL");
  expect_input_error("nccl", false, false, "no NCCL");
  expect_input_error("gloo", true, true, "unknown value \"gloo\"");
  expect_input_error("mpi", true, true, "CUDA device");
}

TEST(NcclBackend, UnavailableWithoutCuda) {
#ifdef TICKSTREAM_WITH_CUDA
  GTEST_SKIP() << "CUDA build: the NCCL backend exists (tested by the GPU tests)";
#else
  EXPECT_THROW(make_nccl_communicator(*make_self_communicator(), 0, CommOptions{}), InputError);
#endif
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::f32), 4u);
  EXPECT_EQ(dtype_size(DType::f64), 8u);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_EQ(dtype_size(DType::u8), 1u);
  EXPECT_STREQ(dtype_name(DType::i64), "i64");
  std::vector<double> v(5);
  EXPECT_EQ(host_buffer(v).bytes(), 40u);
}

}  // namespace
}  // namespace tickstream::comm
