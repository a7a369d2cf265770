// Last resort for an exception that escaped a command: print it and end the whole MPI job.
#pragma once

#include <exception>

namespace tickstream {

// Prints "error: <what>" (and where it was raised) and aborts every rank of the job
// (MPI_Abort on the world; a plain exit when MPI is not running).
[[noreturn]] void abort_job(const std::exception& e, int exit_code);

}  // namespace tickstream
