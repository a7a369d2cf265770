// Single-rank communicators: "self" (one rank on its own) and "fake" (tests: injected failures and
// hangs); every collective is the identity.
#include <cstring>

#include "comm/comm_internal.hpp"
#include "comm/communicator.hpp"
#include "core/error.hpp"

namespace tickstream::comm {
namespace {

using detail::OpInfo;
using detail::OpKind;

class FakeCommunicator;

// A fake operation: complete at once, or (the hang_at operation) never.
class FakeWork final : public Work {
 public:
  FakeWork(FakeCommunicator& comm, const OpInfo& info, bool hangs)
      : comm_(comm), info_(info), hangs_(hangs) {}
  bool test() override { return !hangs_; }
  void wait() override;

 private:
  FakeCommunicator& comm_;
  OpInfo info_;
  bool hangs_;
};

class FakeCommunicator final : public Communicator {
 public:
  FakeCommunicator(CommOptions options, FakeOptions fake, const char* backend)
      : options_(std::move(options)), fake_(std::move(fake)), backend_(backend) {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return backend_; }
  Memory memory() const override { return Memory::host; }

  std::unique_ptr<Work> allreduce_async(Buffer buffer, ReduceOp op) override {
    detail::check_allreduce(buffer, op, Memory::host);
    return start(OpKind::allreduce, buffer, op, -1);  // one rank: every reduction is the identity
  }
  std::unique_ptr<Work> broadcast_async(Buffer buffer, int root) override {
    detail::check_broadcast(buffer, root, 1, Memory::host);
    return start(OpKind::broadcast, buffer, ReduceOp::sum, root);
  }
  std::unique_ptr<Work> allgather_async(Buffer send, Buffer recv) override {
    detail::check_allgather(send, recv, 1, Memory::host);
    auto work = start(OpKind::allgather, send, ReduceOp::sum, -1);
    copy(send, recv);
    return work;
  }
  std::unique_ptr<Work> allgatherv_async(Buffer send, Buffer recv,
                                         const std::vector<int64_t>& counts) override {
    detail::check_allgatherv(send, recv, counts, 0, Memory::host);
    auto work = start(detail::make_v_op(operations_, OpKind::allgatherv, send.dtype, recv.count));
    copy(send, recv);
    return work;
  }
  std::unique_ptr<Work> alltoallv_async(Buffer send, const std::vector<int64_t>& send_counts,
                                        Buffer recv, const std::vector<int64_t>& recv_counts) override {
    detail::check_alltoallv(send, send_counts, recv, recv_counts, 1, Memory::host);
    TS_CHECK(send.count == recv.count, "alltoallv on one rank: sends {} but receives {}", send.count,
             recv.count);
    auto work = start(detail::make_v_op(operations_, OpKind::alltoallv, send.dtype, -1));
    copy(send, recv);
    return work;
  }
  void barrier() override {
    start(OpKind::barrier, detail::no_buffer(), ReduceOp::sum, -1)->wait();
  }
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    detail::abort_job(options_, abort_printed_, message, exit_code);
  }

  std::chrono::milliseconds timeout() const { return options_.timeout; }

 private:
  std::unique_ptr<Work> start(OpKind kind, const Buffer& buffer, ReduceOp op, int root) {
    return start(detail::make_op(operations_, kind, buffer, op, root));
  }
  std::unique_ptr<Work> start(const OpInfo& info) {
    ++operations_;
    if (info.seq == fake_.fail_at) abort(fake_.fail_message, kExitInternal);
    return std::make_unique<FakeWork>(*this, info, info.seq == fake_.hang_at);
  }
  static void copy(const Buffer& send, const Buffer& recv) {
    if (send.data != recv.data && send.count > 0) std::memmove(recv.data, send.data, send.bytes());
  }

  CommOptions options_;
  FakeOptions fake_;
  const char* backend_;
  int64_t operations_ = 0;
  bool abort_printed_ = false;
};

void FakeWork::wait() {
  if (!hangs_) return;
  detail::poll_until([this] { return test(); }, [] {}, comm_.timeout());
  comm_.abort(fmt::format("{} did not complete within {}: it timed out on rank 0 (the only rank)",
                          detail::describe(info_), detail::seconds_text(comm_.timeout())),
              kExitInternal);
}

}  // namespace

std::unique_ptr<Communicator> make_fake_communicator(CommOptions options, FakeOptions fake) {
  return std::make_unique<FakeCommunicator>(std::move(options), std::move(fake), "fake");
}

std::unique_ptr<Communicator> make_self_communicator(CommOptions options) {
  return std::make_unique<FakeCommunicator>(std::move(options), FakeOptions{}, "self");
}

}  // namespace tickstream::comm
