// Job abort for an exception that escaped a command.
#include "runtime/failure.hpp"

#include <cstdio>

#include "comm/mpi_native.hpp"
#include "core/error.hpp"

namespace tickstream {

void abort_job(const std::exception& e, int exit_code) {
  std::fprintf(stderr, "error: %s\n", e.what());
  if (const auto* err = dynamic_cast<const Error*>(&e))
    std::fprintf(stderr, "  (raised at %s)\n", err->origin().c_str());
  std::fflush(stderr);
  comm::abort_mpi_job(exit_code);
}

}  // namespace tickstream
