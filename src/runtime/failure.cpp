// Job abort for an exception that escaped a command.
#include "runtime/failure.hpp"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"

namespace tickstream {

void abort_job(const std::exception& e, int exit_code) {
  std::fprintf(stderr, "error: %s\n", e.what());
  if (const auto* err = dynamic_cast<const Error*>(&e))
    std::fprintf(stderr, "  (raised at %s)\n", err->origin().c_str());
  std::fflush(stderr);
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

}  // namespace tickstream
