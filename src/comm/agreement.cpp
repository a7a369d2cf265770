// Collective failure agreement over a communicator.
#include "comm/agreement.hpp"

#include "comm/collectives.hpp"
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

void agree_on_failure(comm::Communicator& comm, const std::exception_ptr& local) {
  const LocalFailure mine = describe(local);
  const int n = comm.size();
  const int me = comm.rank();
  // The lowest failing rank wins: encode it as n - rank so MAX picks it.
  const int winner_key = comm::allreduce<int32_t>(comm, mine.code ? n - me : 0, comm::ReduceOp::max);
  if (winner_key == 0) return;
  const int winner = n - winner_key;
  const int code = comm::broadcast<int32_t>(comm, mine.code, winner);
  const std::string message = comm::broadcast_string(comm, mine.message, winner);
  throw AgreedFailure(n > 1 ? fmt::format("rank {}: {}", winner, message) : message, code, mine.message,
                      __FILE__, __LINE__);
}

void run_agreed(comm::Communicator& comm, const std::function<void()>& step) {
  std::exception_ptr local;
  try {
    step();
  } catch (...) {
    local = std::current_exception();
  }
  agree_on_failure(comm, local);
}

}  // namespace tickstream
