// MPI communicator backend: non-blocking collectives on a duplicate communicator, timeouts that
// name the missing ranks (arrival board), progress from gradient hooks.
#include <climits>
#include <exception>

#include "comm/arrival_board.hpp"
#include "comm/comm_internal.hpp"
#include "comm/communicator.hpp"
#include "comm/mpi_native.hpp"
#include "core/error.hpp"

namespace tickstream {
namespace detail {

void throw_mpi(int code, const char* expr, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw InternalError(fmt::format("MPI call failed: {}: {}", expr, std::string(text, len)), file,
                      line);
}

}  // namespace detail
}  // namespace tickstream

namespace tickstream::comm {
namespace {

using detail::OpInfo;
using detail::OpKind;

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    case DType::u8: return MPI_UINT8_T;
    case DType::u64: return MPI_UINT64_T;
  }
  TS_INTERNAL_ERROR("no MPI datatype for dtype {}", static_cast<int>(t));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg: return MPI_SUM;  // avg: sum, then divided on completion
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  TS_INTERNAL_ERROR("unknown reduce op {}", static_cast<int>(op));
}

int mpi_count(int64_t count, const char* what) {
  TS_CHECK(count <= INT_MAX, "{}: {} elements is more than one MPI call moves (2^31 - 1); split it",
           what, count);
  return static_cast<int>(count);
}

// Division, not a multiplication by 1/by: an average that is representable comes out exact.
template <typename T>
void divide(void* data, int64_t count, int by) {
  T* p = static_cast<T*>(data);
  const T divisor = static_cast<T>(by);
  for (int64_t i = 0; i < count; ++i) p[i] /= divisor;
}

class MpiCommunicator;

// One launched collective. Linked into its communicator's list until it completes, so that
// progress() can test it. Must not outlive its communicator.
class MpiWork final : public Work {
 public:
  // `arrays`: counts and displacements the MPI call reads until it completes (v-collectives).
  MpiWork(MpiCommunicator& comm, const OpInfo& info, MPI_Request request, Buffer average,
          std::vector<int> arrays = {});
  ~MpiWork() override;
  MpiWork(const MpiWork&) = delete;
  MpiWork& operator=(const MpiWork&) = delete;
  bool test() override;
  void wait() override;

 private:
  friend class MpiCommunicator;
  void finish();

  MpiCommunicator& comm_;
  OpInfo info_;
  MPI_Request request_;
  Buffer average_;  // avg: divided by the rank count on completion; data == nullptr otherwise
  std::vector<int> arrays_;
  bool done_ = false;
  MpiWork* prev_ = nullptr;
  MpiWork* next_ = nullptr;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, CommOptions options)
      : comm_(duplicate(comm)), options_(std::move(options)), board_(comm_) {
    TS_CHECK_MPI(MPI_Comm_rank(comm_, &rank_));
    TS_CHECK_MPI(MPI_Comm_size(comm_, &size_));
    TS_CHECK(options_.timeout.count() > 0, "communicator timeout must be positive");
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }
  Memory memory() const override { return Memory::host; }

  std::unique_ptr<Work> allreduce_async(Buffer buffer, ReduceOp op) override;
  std::unique_ptr<Work> broadcast_async(Buffer buffer, int root) override;
  std::unique_ptr<Work> allgather_async(Buffer send, Buffer recv) override;
  std::unique_ptr<Work> allgatherv_async(Buffer send, Buffer recv,
                                         const std::vector<int64_t>& counts) override;
  std::unique_ptr<Work> alltoallv_async(Buffer send, const std::vector<int64_t>& send_counts,
                                        Buffer recv, const std::vector<int64_t>& recv_counts) override;
  void barrier() override;
  MPI_Comm native() const { return comm_; }
  void progress() override;
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    detail::abort_job(options_, abort_printed_, message, exit_code);
  }

  // For MpiWork.
  void link(MpiWork* work);
  void unlink(MpiWork* work);
  void poll_board() {
    if (!board_.poll()) abort(board_.mismatch(), kExitInternal);
  }
  [[noreturn]] void timed_out(const OpInfo& op) {
    abort(board_.timeout_message(op, options_.timeout), kExitInternal);
  }
  std::chrono::milliseconds timeout() const { return options_.timeout; }
  std::chrono::milliseconds grace() const { return board_.grace(options_.timeout); }
  void abandoned(const OpInfo& op) { abandoned_ = detail::describe(op); }

 private:
  static MPI_Comm duplicate(MPI_Comm comm) {
    MPI_Comm dup = MPI_COMM_NULL;
    TS_CHECK_MPI(MPI_Comm_dup(comm, &dup));
    return dup;
  }
  OpInfo enter(OpKind kind, const Buffer& buffer, ReduceOp op, int root);
  OpInfo enter(const OpInfo& info);

  MPI_Comm comm_;
  CommOptions options_;
  detail::ArrivalBoard board_;
  int rank_ = 0;
  int size_ = 1;
  int64_t next_seq_ = 0;
  bool abort_printed_ = false;
  std::string abandoned_;  // a collective left in flight by an exception: no further operations
  MpiWork* head_ = nullptr;
  MpiWork* tail_ = nullptr;
};

MpiWork::MpiWork(MpiCommunicator& comm, const OpInfo& info, MPI_Request request, Buffer average,
                 std::vector<int> arrays)
    : comm_(comm), info_(info), request_(request), average_(average), arrays_(std::move(arrays)) {
  comm_.link(this);
}

MpiWork::~MpiWork() {
  if (done_) return;
  // A collective still in flight must finish before its buffer goes away. While an exception
  // unwinds, the job is about to be aborted with that exception's message: do not wait, and
  // refuse later operations on this communicator (the ranks' sequences no longer match).
  if (std::uncaught_exceptions() > 0) {
    comm_.abandoned(info_);
    comm_.unlink(this);
    return;
  }
  wait();
}

bool MpiWork::test() {
  if (done_) return true;
  int flag = 0;
  TS_CHECK_MPI(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE));
  if (flag) finish();
  return done_;
}

void MpiWork::finish() {
  done_ = true;
  comm_.unlink(this);
  if (average_.data == nullptr) return;
  if (average_.dtype == DType::f32) divide<float>(average_.data, average_.count, comm_.size());
  if (average_.dtype == DType::f64) divide<double>(average_.data, average_.count, comm_.size());
}

void MpiWork::wait() {
  if (done_) return;
  const auto done = [this] { return test(); };
  const auto between = [this] { comm_.poll_board(); };
  if (detail::poll_until(done, between, comm_.timeout())) return;
  // Rank 0 reports at once; other ranks give rank 0 a grace period to report (and abort) first.
  if (detail::poll_until(done, between, comm_.grace())) return;
  comm_.timed_out(info_);
}

void MpiCommunicator::link(MpiWork* work) {
  work->prev_ = tail_;
  work->next_ = nullptr;
  (tail_ ? tail_->next_ : head_) = work;
  tail_ = work;
}

void MpiCommunicator::unlink(MpiWork* work) {
  if (work->prev_ == nullptr && head_ != work) return;  // not linked
  (work->prev_ ? work->prev_->next_ : head_) = work->next_;
  (work->next_ ? work->next_->prev_ : tail_) = work->prev_;
  work->prev_ = work->next_ = nullptr;
}

OpInfo MpiCommunicator::enter(OpKind kind, const Buffer& buffer, ReduceOp op, int root) {
  return enter(detail::make_op(next_seq_, kind, buffer, op, root));
}

OpInfo MpiCommunicator::enter(const OpInfo& info) {
  if (!abandoned_.empty())
    abort(fmt::format("{} was left in flight when an exception unwound past it; this communicator "
                      "cannot run further collectives",
                      abandoned_),
          kExitInternal);
  ++next_seq_;
  if (!board_.arrive(info)) abort(board_.mismatch(), kExitInternal);
  return info;
}

std::unique_ptr<Work> MpiCommunicator::allreduce_async(Buffer buffer, ReduceOp op) {
  detail::check_allreduce(buffer, op, Memory::host);
  const int count = mpi_count(buffer.count, "allreduce");
  const OpInfo info = enter(OpKind::allreduce, buffer, op, -1);
  MPI_Request request = MPI_REQUEST_NULL;
  TS_CHECK_MPI(MPI_Iallreduce(MPI_IN_PLACE, buffer.data, count, mpi_type(buffer.dtype), mpi_op(op),
                              comm_, &request));
  return std::make_unique<MpiWork>(*this, info, request, op == ReduceOp::avg ? buffer : Buffer{});
}

std::unique_ptr<Work> MpiCommunicator::broadcast_async(Buffer buffer, int root) {
  detail::check_broadcast(buffer, root, size_, Memory::host);
  const int count = mpi_count(buffer.count, "broadcast");
  const OpInfo info = enter(OpKind::broadcast, buffer, ReduceOp::sum, root);
  MPI_Request request = MPI_REQUEST_NULL;
  TS_CHECK_MPI(MPI_Ibcast(buffer.data, count, mpi_type(buffer.dtype), root, comm_, &request));
  return std::make_unique<MpiWork>(*this, info, request, Buffer{});
}

std::unique_ptr<Work> MpiCommunicator::allgather_async(Buffer send, Buffer recv) {
  detail::check_allgather(send, recv, size_, Memory::host);
  const int count = mpi_count(send.count, "allgather");
  mpi_count(recv.count, "allgather");
  const OpInfo info = enter(OpKind::allgather, send, ReduceOp::sum, -1);
  // Sending from this rank's own slot of `recv` is the in-place form.
  const bool in_place =
      send.data == static_cast<char*>(recv.data) + static_cast<size_t>(rank_) * send.bytes();
  const MPI_Datatype type = mpi_type(send.dtype);
  MPI_Request request = MPI_REQUEST_NULL;
  TS_CHECK_MPI(MPI_Iallgather(in_place ? MPI_IN_PLACE : send.data, count, type, recv.data, count,
                              type, comm_, &request));
  return std::make_unique<MpiWork>(*this, info, request, Buffer{});
}

// Counts then displacements, as MPI's int arrays (elements of `dtype`).
std::vector<int> counts_and_displs(const std::vector<int64_t>& counts, const char* what) {
  const size_t n = counts.size();
  std::vector<int> out(2 * n);
  int64_t offset = 0;
  for (size_t r = 0; r < n; ++r) {
    out[r] = mpi_count(counts[r], what);
    out[n + r] = mpi_count(offset, what);
    offset += counts[r];
  }
  mpi_count(offset, what);
  return out;
}

std::unique_ptr<Work> MpiCommunicator::allgatherv_async(Buffer send, Buffer recv,
                                                        const std::vector<int64_t>& counts) {
  detail::check_allgatherv(send, recv, counts, rank_, Memory::host);
  TS_CHECK(static_cast<int>(counts.size()) == size_, "allgatherv: {} counts for {} ranks",
           counts.size(), size_);
  std::vector<int> arrays = counts_and_displs(counts, "allgatherv");
  const OpInfo info = enter(detail::make_v_op(next_seq_, OpKind::allgatherv, send.dtype, recv.count));
  const MPI_Datatype type = mpi_type(send.dtype);
  MPI_Request request = MPI_REQUEST_NULL;
  const int* recv_counts = arrays.data();
  const int* displs = arrays.data() + size_;
  TS_CHECK_MPI(MPI_Iallgatherv(send.data, recv_counts[rank_], type, recv.data, recv_counts, displs,
                               type, comm_, &request));
  return std::make_unique<MpiWork>(*this, info, request, Buffer{}, std::move(arrays));
}

std::unique_ptr<Work> MpiCommunicator::alltoallv_async(Buffer send,
                                                       const std::vector<int64_t>& send_counts,
                                                       Buffer recv,
                                                       const std::vector<int64_t>& recv_counts) {
  detail::check_alltoallv(send, send_counts, recv, recv_counts, size_, Memory::host);
  std::vector<int> arrays = counts_and_displs(send_counts, "alltoallv send");
  const std::vector<int> recv_arrays = counts_and_displs(recv_counts, "alltoallv recv");
  arrays.insert(arrays.end(), recv_arrays.begin(), recv_arrays.end());
  const OpInfo info = enter(detail::make_v_op(next_seq_, OpKind::alltoallv, send.dtype, -1));
  const MPI_Datatype type = mpi_type(send.dtype);
  const int* a = arrays.data();
  const int n = size_;
  MPI_Request request = MPI_REQUEST_NULL;
  TS_CHECK_MPI(MPI_Ialltoallv(send.data, a, a + n, type, recv.data, a + 2 * n, a + 3 * n, type,
                              comm_, &request));
  return std::make_unique<MpiWork>(*this, info, request, Buffer{}, std::move(arrays));
}

void MpiCommunicator::barrier() {
  const OpInfo info = enter(OpKind::barrier, detail::no_buffer(), ReduceOp::sum, -1);
  MPI_Request request = MPI_REQUEST_NULL;
  TS_CHECK_MPI(MPI_Ibarrier(comm_, &request));
  MpiWork work(*this, info, request, Buffer{});
  work.wait();
}

void MpiCommunicator::progress() {
  poll_board();
  for (MpiWork* work = head_; work != nullptr;) {
    MpiWork* next = work->next_;
    work->test();  // unlinks `work` when complete
    work = next;
  }
}

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm, CommOptions options) {
  return std::make_unique<MpiCommunicator>(comm, std::move(options));
}

MPI_Comm native_mpi_comm(const Communicator& comm) {
  const auto* mpi = dynamic_cast<const MpiCommunicator*>(&comm);
  TS_CHECK(mpi != nullptr, "an MPI communicator was needed, but this one's backend is {}",
           comm.backend());
  return mpi->native();
}

}  // namespace tickstream::comm
