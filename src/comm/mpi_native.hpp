// The MPI side of the communicator layer: the MPI backend is made from an MPI_Comm, and libraries
// that take an MPI_Comm themselves (MPI-IO under parallel HDF5) get the communicator's. Included only
// inside comm/ and runtime/: every other layer sees comm::Communicator.
#pragma once

#include <mpi.h>

#include <memory>

#include "comm/communicator.hpp"

namespace tickstream::detail {
[[noreturn]] void throw_mpi(int code, const char* expr, const char* file, int line);
}  // namespace tickstream::detail

// MPI calls return MPI_SUCCESS (0) on success.
#define TS_CHECK_MPI(call)                                                          \
  do {                                                                              \
    const int ts_mpi_rc_ = (call);                                                  \
    if (ts_mpi_rc_ != MPI_SUCCESS)                                                  \
      ::tickstream::detail::throw_mpi(ts_mpi_rc_, #call, __FILE__, __LINE__);       \
  } while (0)

namespace tickstream::comm {

// MPI backend over a duplicate of `comm` (host memory; MPI_Iallreduce and friends). Collective.
std::unique_ptr<Communicator> make_mpi_communicator(MPI_Comm comm, CommOptions options);

// Ends every rank of the MPI job with `exit_code` (MPI_Abort on the world; a plain exit when MPI
// is not running). Never returns.
[[noreturn]] void abort_mpi_job(int exit_code);

// The MPI communicator under an MPI backend (its private duplicate). InternalError for another
// backend.
MPI_Comm native_mpi_comm(const Communicator& comm);

}  // namespace tickstream::comm
