// Fault injection for failure tests: TICKSTREAM_INJECT_FAULT="<point>@<rank>[:kill|:sleep=S]".
#pragma once

#include <string_view>

namespace tickstream {

// When the environment variable TICKSTREAM_INJECT_FAULT names this point and rank ("<point>@*":
// every rank): throws InternalError("injected fault at <point> on rank <rank>"), or with the
// ":kill" suffix dies at once by SIGKILL (a rank lost to the OOM killer or a node failure: no
// unwinding, no message), or with ":sleep=S" logs "injected pause of S s at <point> on rank
// <rank>" (warning) and sleeps S seconds, then goes on (a window for a test to act in, e.g.
// restart a database server mid-transaction). A no-op otherwise (one getenv).
// Points: ingest_write, features_write, loader_read, train_step, predict_write, pg_rows,
// pg_commit.
void maybe_inject_fault(std::string_view point, int rank);

}  // namespace tickstream
