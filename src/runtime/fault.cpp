// Fault injection driven by the TICKSTREAM_INJECT_FAULT environment variable.
#include "runtime/fault.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.hpp"

namespace tickstream {

void maybe_inject_fault(std::string_view point, int rank) {
  const char* env = std::getenv("TICKSTREAM_INJECT_FAULT");
  if (!env) return;
  std::string spec = env;
  std::string action;
  if (const size_t colon = spec.find(':'); colon != std::string::npos) {
    action = spec.substr(colon + 1);
    spec.resize(colon);
  }
  const std::string want = std::string(point) + "@" + std::to_string(rank);
  const std::string every = std::string(point) + "@*";
  if (want != spec && every != spec) return;
  if (action == "kill") std::raise(SIGKILL);
  if (action.rfind("sleep=", 0) == 0) {
    const double seconds = std::atof(action.c_str() + 6);
    spdlog::warn("injected pause of {} s at {} on rank {}", seconds, point, rank);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return;
  }
  TS_INTERNAL_ERROR("injected fault at {} on rank {}", point, rank);
}

}  // namespace tickstream
