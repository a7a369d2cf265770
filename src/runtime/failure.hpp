// Collective failure agreement: every rank learns of any rank's error before the next collective.
#pragma once

#include <mpi.h>

#include <exception>
#include <functional>

namespace tickstream {

// Collective. Each rank passes the exception it caught (or nullptr). If any rank failed, every
// rank throws AgreedFailure with the message and exit code of the lowest failing rank (and its
// own message, if it failed too). Returns normally only when every rank succeeded.
void agree_on_failure(MPI_Comm comm, const std::exception_ptr& local);

// Runs `step` on every rank, then agrees on failure (see above). Use around phases that do no
// collectives of their own (parsing, validation, local compute).
void run_agreed(MPI_Comm comm, const std::function<void()>& step);

// Last resort for an exception that escaped mid-collective: prints it and aborts the job.
[[noreturn]] void abort_job(MPI_Comm comm, const std::exception& e, int exit_code);

}  // namespace tickstream
