// Fault injection driven by the TICKSTREAM_INJECT_FAULT environment variable.
#include "runtime/fault.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

#include "core/error.hpp"

namespace tickstream {

void maybe_inject_fault(std::string_view point, int rank) {
  const char* env = std::getenv("TICKSTREAM_INJECT_FAULT");
  if (!env) return;
  std::string spec = env;
  const bool kill = spec.size() > 5 && spec.compare(spec.size() - 5, 5, ":kill") == 0;
  if (kill) spec.resize(spec.size() - 5);
  const std::string want = std::string(point) + "@" + std::to_string(rank);
  const std::string every = std::string(point) + "@*";
  if (want != spec && every != spec) return;
  if (kill) std::raise(SIGKILL);
  TS_INTERNAL_ERROR("injected fault at {} on rank {}", point, rank);
}

}  // namespace tickstream
