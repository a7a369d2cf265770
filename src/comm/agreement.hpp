// Collective failure agreement: every rank learns of any rank's error before the next collective.
#pragma once

#include <exception>
#include <functional>

#include "comm/communicator.hpp"

namespace tickstream {

// Collective. Each rank passes the exception it caught (or nullptr). If any rank failed, every
// rank throws AgreedFailure with the message and exit code of the lowest failing rank (and its
// own message, if it failed too). Returns normally only when every rank succeeded.
void agree_on_failure(comm::Communicator& comm, const std::exception_ptr& local);

// Runs `step` on every rank, then agrees on failure (see above). Use around phases that do no
// collectives of their own (parsing, validation, local compute).
void run_agreed(comm::Communicator& comm, const std::function<void()>& step);

}  // namespace tickstream
