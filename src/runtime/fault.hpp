// Fault injection for failure tests: TICKSTREAM_INJECT_FAULT="<point>@<rank>" throws there.
#pragma once

#include <string_view>

namespace tickstream {

// Throws InternalError("injected fault at <point> on rank <rank>") when the environment variable
// TICKSTREAM_INJECT_FAULT names this point and rank ("<point>@*": every rank). A no-op otherwise (one getenv).
void maybe_inject_fault(std::string_view point, int rank);

}  // namespace tickstream
