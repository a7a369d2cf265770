// Fault injection driven by the TICKSTREAM_INJECT_FAULT environment variable.
#include "runtime/fault.hpp"

#include <cstdlib>
#include <string>

#include "core/error.hpp"

namespace tickstream {

void maybe_inject_fault(std::string_view point, int rank) {
  const char* spec = std::getenv("TICKSTREAM_INJECT_FAULT");
  if (!spec) return;
  const std::string want = std::string(point) + "@" + std::to_string(rank);
  const std::string every = std::string(point) + "@*";
  if (want == spec || every == spec) TS_INTERNAL_ERROR("injected fault at {} on rank {}", point, rank);
}

}  // namespace tickstream
