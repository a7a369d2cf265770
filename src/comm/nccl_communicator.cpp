// NCCL communicator backend (CUDA builds): collectives on the communicator's own stream, ordered
// after the legacy default stream by events; timeouts and async errors abort the communicator.
#include <cuda_runtime.h>
#include <nccl.h>

#include <exception>
#include <vector>

#include "comm/comm_internal.hpp"
#include "comm/communicator.hpp"
#include "core/error.hpp"
#include "comm/agreement.hpp"

namespace tickstream::comm {
namespace {

using detail::OpInfo;
using detail::OpKind;

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
    case DType::u64: return ncclUint64;
  }
  TS_INTERNAL_ERROR("no NCCL datatype for dtype {}", static_cast<int>(t));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::avg: return ncclAvg;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  TS_INTERNAL_ERROR("unknown reduce op {}", static_cast<int>(op));
}

// Makes `device` current for the scope (NCCL calls must run with the communicator's device).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    TS_CHECK_CUDA(cudaGetDevice(&previous_));
    if (previous_ != device) TS_CHECK_CUDA(cudaSetDevice(device));
  }
  ~DeviceScope() {
    int now = previous_;
    cudaGetDevice(&now);
    if (now != previous_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
};

class NcclCommunicator;

// One enqueued collective: complete when its event (recorded after it on the comm stream) is.
class NcclWork final : public Work {
 public:
  NcclWork(NcclCommunicator& comm, const OpInfo& info, cudaEvent_t event)
      : comm_(comm), info_(info), event_(event) {}
  ~NcclWork() override;
  NcclWork(const NcclWork&) = delete;
  NcclWork& operator=(const NcclWork&) = delete;
  bool test() override;
  void wait() override;

 private:
  NcclCommunicator& comm_;
  OpInfo info_;
  cudaEvent_t event_;
  bool done_ = false;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device, CommOptions options)
      : device_(device), options_(std::move(options)) {
    try {
      init(bootstrap);
    } catch (...) {
      release();
      throw;
    }
  }
  ~NcclCommunicator() override { release(); }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "nccl"; }
  Memory memory() const override { return Memory::cuda; }

  std::unique_ptr<Work> allreduce_async(Buffer buffer, ReduceOp op) override;
  std::unique_ptr<Work> broadcast_async(Buffer buffer, int root) override;
  std::unique_ptr<Work> allgather_async(Buffer send, Buffer recv) override;
  void barrier() override;
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    abort_nccl();
    detail::abort_job(options_, abort_printed_, message, exit_code);
  }

  // For NcclWork.
  std::chrono::milliseconds timeout() const { return options_.timeout; }
  void release_event(cudaEvent_t event) { free_events_.push_back(event); }
  void check_async(const OpInfo& op);

 private:
  void init(Communicator& bootstrap);
  void release() noexcept;
  void abort_nccl() noexcept;
  void check_device(const Buffer& buffer, const char* what) const;
  OpInfo enter(OpKind kind, const Buffer& buffer, ReduceOp op, int root);
  template <typename Issue>
  std::unique_ptr<Work> launch(const OpInfo& info, void* producer, Issue&& issue);

  int rank_ = 0;
  int size_ = 1;
  int device_;
  CommOptions options_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;  // recorded on the producing stream before each operation
  void* scratch_ = nullptr;      // one int32 on the device: the barrier's allreduce
  std::vector<cudaEvent_t> free_events_;
  int64_t next_seq_ = 0;
  bool aborted_ = false;
  bool abort_printed_ = false;
};

void NcclCommunicator::init(Communicator& bootstrap) {
  rank_ = bootstrap.rank();
  size_ = bootstrap.size();
  TS_CHECK(options_.timeout.count() > 0, "communicator timeout must be positive");
  // Every step that can fail on one rank alone is agreed on before the collective NCCL init.
  ncclUniqueId id{};
  run_agreed(bootstrap, [&] {
    TS_CHECK_CUDA(cudaSetDevice(device_));
    TS_CHECK_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    TS_CHECK_CUDA(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming));
    TS_CHECK_CUDA(cudaMalloc(&scratch_, sizeof(int32_t)));
    TS_CHECK_CUDA(cudaMemset(scratch_, 0, sizeof(int32_t)));
    if (rank_ == 0) TS_CHECK_NCCL(ncclGetUniqueId(&id));
  });
  bootstrap.broadcast(host_buffer(reinterpret_cast<uint8_t*>(&id), sizeof(id)), 0);
  // Non-blocking init under the communicator's timeout: a rank that never arrives ends the job
  // (the init is collective over the NCCL ranks) instead of hanging it.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t started = ncclCommInitRankConfig(&comm_, size_, id, rank_, &config);
  TS_CHECK(started == ncclSuccess || started == ncclInProgress, "ncclCommInitRankConfig failed: {}",
           ncclGetErrorString(started));
  ncclResult_t state = ncclInProgress;
  const auto done = [&] {
    if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) state = ncclInternalError;
    return state != ncclInProgress;
  };
  if (!detail::poll_until(done, [] {}, options_.timeout))
    abort(fmt::format("NCCL communicator set-up on device {} did not complete within {}: a rank did not "
                      "arrive (the set-up is collective)", device_, detail::seconds_text(options_.timeout)),
          kExitInternal);
  TS_CHECK(state == ncclSuccess, "NCCL communicator set-up failed on device {}: {} ({})", device_,
           ncclGetErrorString(state), ncclGetLastError(comm_));
}

void NcclCommunicator::release() noexcept {
  // ncclCommAbort already freed an aborted communicator. While an exception unwinds, another
  // collective may be in flight: abort instead of a destroy that could wait for it.
  if (comm_ != nullptr && !aborted_) {
    if (std::uncaught_exceptions() > 0) ncclCommAbort(comm_);
    else ncclCommDestroy(comm_);
  }
  comm_ = nullptr;
  for (cudaEvent_t e : free_events_) cudaEventDestroy(e);
  free_events_.clear();
  if (ready_ != nullptr) cudaEventDestroy(ready_);
  if (scratch_ != nullptr) cudaFree(scratch_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  ready_ = nullptr;
  scratch_ = nullptr;
  stream_ = nullptr;
}

void NcclCommunicator::abort_nccl() noexcept {
  if (aborted_ || comm_ == nullptr) return;
  aborted_ = true;
  ncclCommAbort(comm_);
}

void NcclCommunicator::check_async(const OpInfo& op) {
  ncclResult_t state = ncclSuccess;
  const ncclResult_t rc = ncclCommGetAsyncError(comm_, &state);
  if (rc != ncclSuccess) state = rc;
  if (state == ncclSuccess || state == ncclInProgress) return;
  abort(fmt::format("{} failed on rank {}: NCCL error: {} ({})", detail::describe(op), rank_,
                    ncclGetErrorString(state), ncclGetLastError(comm_)),
        kExitInternal);
}

void NcclCommunicator::check_device(const Buffer& buffer, const char* what) const {
  TS_CHECK(buffer.count == 0 || buffer.device == device_,
           "{}: buffer on CUDA device {}, but the communicator runs on device {}", what,
           buffer.device, device_);
}

OpInfo NcclCommunicator::enter(OpKind kind, const Buffer& buffer, ReduceOp op, int root) {
  TS_CHECK(!aborted_, "NCCL communicator used after it was aborted");
  return detail::make_op(next_seq_++, kind, buffer, op, root);
}

// Orders the operation after the work already queued on the stream that produces its buffer
// (libtorch's current stream for tensors; the legacy default stream, and so every blocking
// stream, when none is named), enqueues it on the comm stream and records its completion event.
template <typename Issue>
std::unique_ptr<Work> NcclCommunicator::launch(const OpInfo& info, void* producer, Issue&& issue) {
  DeviceScope scope(device_);
  TS_CHECK_CUDA(cudaEventRecord(ready_, producer != nullptr ? static_cast<cudaStream_t>(producer) : cudaStreamLegacy));
  TS_CHECK_CUDA(cudaStreamWaitEvent(stream_, ready_, 0));
  TS_CHECK_NCCL(issue());
  cudaEvent_t event = nullptr;
  if (free_events_.empty()) {
    TS_CHECK_CUDA(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  } else {
    event = free_events_.back();
    free_events_.pop_back();
  }
  auto work = std::make_unique<NcclWork>(*this, info, event);
  TS_CHECK_CUDA(cudaEventRecord(event, stream_));
  return work;
}

std::unique_ptr<Work> NcclCommunicator::allreduce_async(Buffer buffer, ReduceOp op) {
  detail::check_allreduce(buffer, op, Memory::cuda);
  check_device(buffer, "allreduce");
  const OpInfo info = enter(OpKind::allreduce, buffer, op, -1);
  return launch(info, buffer.stream, [&] {
    return ncclAllReduce(buffer.data, buffer.data, static_cast<size_t>(buffer.count),
                         nccl_type(buffer.dtype), nccl_op(op), comm_, stream_);
  });
}

std::unique_ptr<Work> NcclCommunicator::broadcast_async(Buffer buffer, int root) {
  detail::check_broadcast(buffer, root, size_, Memory::cuda);
  check_device(buffer, "broadcast");
  const OpInfo info = enter(OpKind::broadcast, buffer, ReduceOp::sum, root);
  return launch(info, buffer.stream, [&] {
    return ncclBroadcast(buffer.data, buffer.data, static_cast<size_t>(buffer.count),
                         nccl_type(buffer.dtype), root, comm_, stream_);
  });
}

std::unique_ptr<Work> NcclCommunicator::allgather_async(Buffer send, Buffer recv) {
  detail::check_allgather(send, recv, size_, Memory::cuda);
  check_device(send, "allgather send");
  check_device(recv, "allgather recv");
  const OpInfo info = enter(OpKind::allgather, send, ReduceOp::sum, -1);
  return launch(info, send.stream, [&] {
    return ncclAllGather(send.data, recv.data, static_cast<size_t>(send.count),
                         nccl_type(send.dtype), comm_, stream_);
  });
}

void NcclCommunicator::barrier() {
  const OpInfo info = enter(OpKind::barrier, detail::no_buffer(), ReduceOp::sum, -1);
  launch(info, nullptr, [&] {
    return ncclAllReduce(scratch_, scratch_, 1, ncclInt32, ncclSum, comm_, stream_);
  })->wait();
}

NcclWork::~NcclWork() {
  // An operation still queued must finish before its buffer is reused, except while an
  // exception unwinds: then the job is about to be aborted with that exception's message.
  if (!done_ && std::uncaught_exceptions() == 0) wait();
  comm_.release_event(event_);
}

bool NcclWork::test() {
  if (done_) return true;
  const cudaError_t rc = cudaEventQuery(event_);
  if (rc == cudaErrorNotReady) return false;
  if (rc != cudaSuccess)
    comm_.abort(
        fmt::format("{} failed: CUDA error: {}", detail::describe(info_), cudaGetErrorString(rc)),
        kExitInternal);
  done_ = true;
  return true;
}

void NcclWork::wait() {
  if (done_) return;
  const auto done = [this] { return test(); };
  const auto between = [this] { comm_.check_async(info_); };
  if (detail::poll_until(done, between, comm_.timeout())) return;
  comm_.abort(fmt::format("{} did not complete within {} (NCCL backend): a rank did not enter it, "
                          "or stopped inside it; the NCCL communicator was aborted",
                          detail::describe(info_), detail::seconds_text(comm_.timeout())),
              kExitInternal);
}

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device,
                                                     CommOptions options) {
  return std::make_unique<NcclCommunicator>(bootstrap, device, std::move(options));
}

}  // namespace tickstream::comm
