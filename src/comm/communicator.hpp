// Communicator: one interface over MPI (host memory), NCCL (device memory) and a fake test backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tickstream::comm {

enum class DType { f32, f64, i32, i64, u8, u64 };
enum class Memory { host, cuda };
enum class ReduceOp { sum, avg, max, min };

size_t dtype_size(DType t);
const char* dtype_name(DType t);

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<T, int64_t>) return DType::i64;
  else if constexpr (std::is_same_v<T, uint8_t>) return DType::u8;
  else if constexpr (std::is_same_v<T, uint64_t>) return DType::u64;
  else static_assert(sizeof(T) == 0, "no communicator dtype for this type");
}

// A typed, contiguous buffer: built from a typed pointer, a vector or a tensor
// (train/tensor_buffer.hpp), never from a hand-written count and dtype.
struct Buffer {
  void* data = nullptr;
  int64_t count = 0;
  DType dtype = DType::f32;
  Memory memory = Memory::host;
  int device = -1;  // CUDA ordinal for Memory::cuda
  // Memory::cuda: the cudaStream_t whose queued work produces the buffer (libtorch's current
  // stream for tensors); the operation is ordered after it. nullptr: the legacy default stream.
  void* stream = nullptr;

  size_t bytes() const { return static_cast<size_t>(count) * dtype_size(dtype); }
};

template <typename T>
Buffer host_buffer(T* data, size_t count) {
  return Buffer{const_cast<std::remove_const_t<T>*>(data), static_cast<int64_t>(count),
                dtype_of<std::remove_const_t<T>>(), Memory::host, -1};
}
template <typename T>
Buffer host_buffer(std::vector<T>& values) {
  return host_buffer(values.data(), values.size());
}

// An asynchronous operation. wait() returns when it is complete; when it does not complete within
// the communicator's timeout it reports which ranks are missing and aborts the job.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;  // non-blocking; true once complete
  virtual void wait() = 0;
};

struct CommOptions {
  std::chrono::milliseconds timeout{300'000};
  // Called by abort() after the communicator itself is aborted; the default ends the MPI job
  // (MPI_Abort). Tests replace it to observe the message. Must not return.
  std::function<void(const std::string& message, int exit_code)> on_abort;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;  // "mpi" | "nccl" | "self" | "fake"
  virtual Memory memory() const = 0;        // where its buffers must live

  // In place over every rank's `buffer` (same count and dtype on every rank).
  virtual std::unique_ptr<Work> allreduce_async(Buffer buffer, ReduceOp op) = 0;
  virtual std::unique_ptr<Work> broadcast_async(Buffer buffer, int root) = 0;
  // recv.count == size() * send.count; rank r's send lands at recv[r * send.count].
  virtual std::unique_ptr<Work> allgather_async(Buffer send, Buffer recv) = 0;
  // Variable-size gather of host buffers: rank r contributes counts[r] elements (send.count ==
  // counts[rank()]); recv receives their concatenation in rank order. Every rank passes the same
  // counts. The MPI and single-rank backends have it; NCCL aborts (device data has fixed shapes).
  virtual std::unique_ptr<Work> allgatherv_async(Buffer send, Buffer recv,
                                                 const std::vector<int64_t>& counts);
  // Personalized exchange of host buffers: send_counts[r] elements of `send` (consecutive, in rank
  // order) go to rank r; recv_counts[r] elements from rank r land in `recv`, in rank order.
  virtual std::unique_ptr<Work> alltoallv_async(Buffer send, const std::vector<int64_t>& send_counts,
                                                Buffer recv, const std::vector<int64_t>& recv_counts);
  virtual void barrier() = 0;
  // Lets outstanding host-side operations progress (MPI); called from gradient hooks.
  virtual void progress() {}
  // Aborts the communicator and the job with `message`, printed once with this rank's name.
  [[noreturn]] virtual void abort(const std::string& message, int exit_code) = 0;

  void allreduce(Buffer buffer, ReduceOp op) { allreduce_async(buffer, op)->wait(); }
  void broadcast(Buffer buffer, int root) { broadcast_async(buffer, root)->wait(); }
  void allgather(Buffer send, Buffer recv) { allgather_async(send, recv)->wait(); }
};

// The MPI backend is made from an MPI_Comm (comm/mpi_native.hpp); commands get theirs from the
// RankContext (runtime/rank_context.hpp), so nothing above runtime/ sees MPI.

// NCCL backend (CUDA builds): rank 0 makes the unique id, broadcast over the host communicator
// `bootstrap` (same ranks), ncclCommInitRank on `device`; operations run on the communicator's own
// stream, ordered by events. Throws InputError in builds without CUDA (no NCCL).
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device,
                                                     CommOptions options);

// One rank on its own (tools, benchmarks, serial tests): every collective is the identity.
std::unique_ptr<Communicator> make_self_communicator(CommOptions options = {});

// Single-rank backend for tests: collectives are the identity (sum/avg/max/min over one rank).
// Failure injection: operation number `fail_at` (0-based, counting every operation) aborts with
// `fail_message`; operation number `hang_at` never completes, so wait() times out.
struct FakeOptions {
  int64_t fail_at = -1;
  std::string fail_message = "injected failure";
  int64_t hang_at = -1;
};
std::unique_ptr<Communicator> make_fake_communicator(CommOptions options, FakeOptions fake = {});

// `[dist] backend`: "auto" picks NCCL when tensors live on a CUDA device, MPI otherwise;
// "nccl" on a CPU-only rank is an InputError naming the key.
std::string resolve_backend(const std::string& configured, bool tensors_on_cuda, bool nccl_built);

}  // namespace tickstream::comm
