// Collective failure agreement and job abort.
#include "runtime/failure.hpp"

#include <cstdio>

#include "comm/mpi_typed.hpp"
#include "core/error.hpp"

namespace tickstream {
namespace {

struct LocalFailure {
  int code = 0;
  std::string message;
};

LocalFailure describe(const std::exception_ptr& local) {
  if (!local) return {};
  try {
    std::rethrow_exception(local);
  } catch (const Error& e) {
    return {e.exit_code(), e.what()};
  } catch (const std::exception& e) {
    return {kExitInternal, e.what()};
  } catch (...) {
    return {kExitInternal, "unknown error (not a std::exception)"};
  }
}

}  // namespace

void agree_on_failure(MPI_Comm comm, const std::exception_ptr& local) {
  const LocalFailure mine = describe(local);
  const int n = mpi::size(comm);
  const int me = mpi::rank(comm);
  // The lowest failing rank wins: encode it as n - rank so MAX picks it.
  const int winner_key = mpi::allreduce<int32_t>(comm, mine.code ? n - me : 0, MPI_MAX);
  if (winner_key == 0) return;
  const int winner = n - winner_key;
  const int code = mpi::broadcast(comm, mine.code, winner);
  const std::string message = mpi::broadcast_string(comm, mine.message, winner);
  throw AgreedFailure(n > 1 ? fmt::format("rank {}: {}", winner, message) : message, code, mine.message,
                      __FILE__, __LINE__);
}

void run_agreed(MPI_Comm comm, const std::function<void()>& step) {
  std::exception_ptr local;
  try {
    step();
  } catch (...) {
    local = std::current_exception();
  }
  agree_on_failure(comm, local);
}

void abort_job(MPI_Comm comm, const std::exception& e, int exit_code) {
  std::fprintf(stderr, "error: %s\n", e.what());
  if (const auto* err = dynamic_cast<const Error*>(&e))
    std::fprintf(stderr, "  (raised at %s)\n", err->origin().c_str());
  std::fflush(stderr);
  MPI_Abort(comm, exit_code);
  std::_Exit(exit_code);
}

}  // namespace tickstream
