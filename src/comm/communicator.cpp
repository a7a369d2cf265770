// Communicator basics: dtypes, backend choice, operation descriptions, checks and the abort path.
#include "comm/communicator.hpp"

#include <cstdio>
#include <cstdlib>

#include "comm/comm_internal.hpp"
#include "comm/mpi_native.hpp"
#include "core/error.hpp"

namespace tickstream::comm {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::u64: return 8;
  }
  TS_INTERNAL_ERROR("unknown dtype {}", static_cast<int>(t));
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::u64: return "u64";
  }
  return "?";
}

std::unique_ptr<Work> Communicator::allgatherv_async(Buffer, Buffer, const std::vector<int64_t>&) {
  TS_INTERNAL_ERROR("the {} communicator has no allgatherv: variable-size gathers run on the host "
                    "(MPI) communicator", backend());
}

std::unique_ptr<Work> Communicator::alltoallv_async(Buffer, const std::vector<int64_t>&, Buffer,
                                                    const std::vector<int64_t>&) {
  TS_INTERNAL_ERROR("the {} communicator has no alltoallv: personalized exchanges run on the host "
                    "(MPI) communicator", backend());
}

std::string resolve_backend(const std::string& configured, bool tensors_on_cuda, bool nccl_built) {
  if (configured == "auto") return tensors_on_cuda && nccl_built ? "nccl" : "mpi";
  if (configured == "mpi") {
    TS_REQUIRE_INPUT(!tensors_on_cuda,
                     "[dist] backend: \"mpi\" reduces host memory, but this rank's tensors live on a "
                     "CUDA device (use \"auto\" or \"nccl\", or TICKSTREAM_GPUS=0 to train on CPU)");
    return "mpi";
  }
  if (configured == "nccl") {
    TS_REQUIRE_INPUT(nccl_built,
                     "[dist] backend: \"nccl\" but this build has no NCCL (rebuild with "
                     "-DTICKSTREAM_CUDA=ON, or use \"mpi\" or \"auto\")");
    TS_REQUIRE_INPUT(
        tensors_on_cuda,
        "[dist] backend: \"nccl\" needs tensors on a CUDA device, but this rank has no "
        "GPU (use \"mpi\" or \"auto\")");
    return "nccl";
  }
  TS_INPUT_ERROR("[dist] backend: unknown value \"{}\" (expected \"auto\", \"mpi\" or \"nccl\")",
                 configured);
}

namespace detail {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::avg: return "avg";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

std::string describe_call(const OpInfo& op) {
  switch (op.kind) {
    case OpKind::allreduce:
      return fmt::format("allreduce({} x {}, {})", dtype_name(op.dtype), op.count,
                         reduce_op_name(op.op));
    case OpKind::broadcast:
      return fmt::format("broadcast({} x {}, root {})", dtype_name(op.dtype), op.count, op.root);
    case OpKind::allgather:
      return fmt::format("allgather({} x {} per rank)", dtype_name(op.dtype), op.count);
    case OpKind::barrier: return "barrier";
    case OpKind::allgatherv:
      return fmt::format("allgatherv({} x {} in all)", dtype_name(op.dtype), op.count);
    case OpKind::alltoallv: return fmt::format("alltoallv({})", dtype_name(op.dtype));
  }
  return "?";
}

std::string describe(const OpInfo& op) {
  return fmt::format("collective #{} {}", op.seq, describe_call(op));
}

std::string seconds_text(std::chrono::milliseconds t) {
  return fmt::format("{:g} s", static_cast<double>(t.count()) / 1000.0);
}

namespace {
void check_buffer(const Buffer& b, Memory expected, const char* what) {
  TS_CHECK(b.memory == expected,
           "{}: a {} buffer given to a communicator whose buffers live in {} memory", what,
           b.memory == Memory::cuda ? "CUDA" : "host", expected == Memory::cuda ? "CUDA" : "host");
  TS_CHECK(b.count >= 0, "{}: negative count {}", what, b.count);
  TS_CHECK(b.count == 0 || b.data != nullptr, "{}: null data with count {}", what, b.count);
}
}  // namespace

void check_allreduce(const Buffer& buffer, ReduceOp op, Memory expected) {
  check_buffer(buffer, expected, "allreduce");
  TS_CHECK(op != ReduceOp::avg || buffer.dtype == DType::f32 || buffer.dtype == DType::f64,
           "allreduce: avg needs a floating-point buffer, got {}", dtype_name(buffer.dtype));
}

void check_broadcast(const Buffer& buffer, int root, int size, Memory expected) {
  check_buffer(buffer, expected, "broadcast");
  TS_CHECK(root >= 0 && root < size, "broadcast: root {} outside [0, {})", root, size);
}

void check_allgather(const Buffer& send, const Buffer& recv, int size, Memory expected) {
  check_buffer(send, expected, "allgather send");
  check_buffer(recv, expected, "allgather recv");
  TS_CHECK(send.dtype == recv.dtype, "allgather: send is {} but recv is {}", dtype_name(send.dtype),
           dtype_name(recv.dtype));
  TS_CHECK(recv.count == send.count * size, "allgather: recv holds {} elements, needs {} x {} = {}",
           recv.count, size, send.count, send.count * size);
}

namespace {
int64_t sum_counts(const std::vector<int64_t>& counts, const char* what) {
  int64_t total = 0;
  for (const int64_t c : counts) {
    TS_CHECK(c >= 0, "{}: negative count {}", what, c);
    total += c;
  }
  return total;
}
}  // namespace

void check_allgatherv(const Buffer& send, const Buffer& recv, const std::vector<int64_t>& counts,
                      int rank, Memory expected) {
  check_buffer(send, expected, "allgatherv send");
  check_buffer(recv, expected, "allgatherv recv");
  TS_CHECK(send.dtype == recv.dtype, "allgatherv: send is {} but recv is {}", dtype_name(send.dtype),
           dtype_name(recv.dtype));
  TS_CHECK(rank < static_cast<int>(counts.size()) && counts[static_cast<size_t>(rank)] == send.count,
           "allgatherv: this rank sends {} elements but counts say otherwise", send.count);
  TS_CHECK(recv.count == sum_counts(counts, "allgatherv"), "allgatherv: recv holds {} elements, counts sum to {}",
           recv.count, sum_counts(counts, "allgatherv"));
}

void check_alltoallv(const Buffer& send, const std::vector<int64_t>& send_counts, const Buffer& recv,
                     const std::vector<int64_t>& recv_counts, int size, Memory expected) {
  check_buffer(send, expected, "alltoallv send");
  check_buffer(recv, expected, "alltoallv recv");
  TS_CHECK(send.dtype == recv.dtype, "alltoallv: send is {} but recv is {}", dtype_name(send.dtype),
           dtype_name(recv.dtype));
  TS_CHECK(static_cast<int>(send_counts.size()) == size && static_cast<int>(recv_counts.size()) == size,
           "alltoallv: {} send and {} receive counts for {} ranks", send_counts.size(),
           recv_counts.size(), size);
  TS_CHECK(send.count == sum_counts(send_counts, "alltoallv send"), "alltoallv: send holds {} elements, counts sum to {}",
           send.count, sum_counts(send_counts, "alltoallv send"));
  TS_CHECK(recv.count == sum_counts(recv_counts, "alltoallv recv"), "alltoallv: recv holds {} elements, counts sum to {}",
           recv.count, sum_counts(recv_counts, "alltoallv recv"));
}

OpInfo make_v_op(int64_t seq, OpKind kind, DType dtype, int64_t count) {
  OpInfo info;
  info.seq = seq;
  info.kind = kind;
  info.dtype = dtype;
  info.count = count;
  return info;
}

void abort_job(const CommOptions& options, bool& printed, const std::string& message,
               int exit_code) {
  if (!printed) {
    printed = true;
    std::fprintf(stderr, "error: %s: %s\n", rank_and_host().c_str(), message.c_str());
    std::fflush(stderr);
  }
  if (options.on_abort) options.on_abort(message, exit_code);
  abort_mpi_job(exit_code);
}

}  // namespace detail

void abort_mpi_job(int exit_code) {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}
}  // namespace tickstream::comm
