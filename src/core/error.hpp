// Typed exceptions and check macros: the one error-handling style of tickstream.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace tickstream {

// Exit codes of every subcommand (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitInput = 2;

// Base of all tickstream errors. `origin()` is the C++ source location plus rank and host;
// `what()` is the message meant for the user.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line);
  const std::string& origin() const { return origin_; }
  virtual int exit_code() const = 0;

 private:
  std::string origin_;
};

// Bad input or configuration: the user can fix it. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitInput; }
};

// A failure inside tickstream or a library it calls. Exit code 1.
class InternalError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitInternal; }
};

// A failure every rank has agreed on (runtime/failure.hpp): what() is the message of the lowest
// failing rank, exit_code() its code; own_message() is this rank's error, empty if it had none.
class AgreedFailure : public Error {
 public:
  AgreedFailure(const std::string& message, int code, std::string own, const char* file, int line)
      : Error(message, file, line), code_(code), own_(std::move(own)) {}
  int exit_code() const override { return code_; }
  const std::string& own_message() const { return own_; }

 private:
  int code_;
  std::string own_;
};

// "rank R on HOST" for the calling process (rank -1 until the runtime names it).
std::string rank_and_host();
// This machine's host name (gethostname).
std::string host_name();
// The job rank of this process for rank_and_host(): process-wide by nature (an error raised
// anywhere names it). Set by the runtime once MPI is up (runtime/rank_context.hpp).
void set_process_rank(int rank);
// The rank the launcher gave this process (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK or
// SLURM_PROCID), known before MPI_Init; nullopt outside a launcher.
std::optional<int> launcher_rank();

}  // namespace tickstream

#define TS_INPUT_ERROR(...) \
  throw ::tickstream::InputError(::fmt::format(__VA_ARGS__), __FILE__, __LINE__)

#define TS_INTERNAL_ERROR(...) \
  throw ::tickstream::InternalError(::fmt::format(__VA_ARGS__), __FILE__, __LINE__)

#define TS_CHECK(cond, ...)                          \
  do {                                               \
    if (!(cond)) TS_INTERNAL_ERROR(__VA_ARGS__);     \
  } while (0)

#define TS_REQUIRE_INPUT(cond, ...)                  \
  do {                                               \
    if (!(cond)) TS_INPUT_ERROR(__VA_ARGS__);        \
  } while (0)

// CUDA runtime and NCCL calls (expand only where cuda_runtime.h / nccl.h are included).
#define TS_CHECK_CUDA(call)                                                                    \
  do {                                                                                         \
    const cudaError_t ts_cuda_rc_ = (call);                                                    \
    if (ts_cuda_rc_ != cudaSuccess)                                                            \
      TS_INTERNAL_ERROR("CUDA call failed: {}: {}", #call, cudaGetErrorString(ts_cuda_rc_));   \
  } while (0)

#define TS_CHECK_NCCL(call)                                                                    \
  do {                                                                                         \
    const ncclResult_t ts_nccl_rc_ = (call);                                                   \
    if (ts_nccl_rc_ != ncclSuccess)                                                            \
      TS_INTERNAL_ERROR("NCCL call failed: {}: {}", #call, ncclGetErrorString(ts_nccl_rc_));   \
  } while (0)

