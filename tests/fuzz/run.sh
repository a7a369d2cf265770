#!/usr/bin/env bash
# CI step: builds the `fuzz` preset (build/fuzz) and runs each libFuzzer target for a bounded time.
#   tests/fuzz/run.sh [seconds-per-target]      (default 60)
# Per target: replays every file of tests/fuzz/regressions/<target>/ (inputs that once crashed), then
# fuzzes a copy of tests/fuzz/corpus/<target>/ (fixed seed, -max_total_time, -rss_limit_mb, -timeout).
# Fails on any crash, sanitizer report, leak, out-of-memory or timeout; the one exception is a timeout
# whose stack is inside HDF5's global heap decoder (tests/fuzz/known-third-party/README.md), reported.
# Prints one JSON line per target: executions, exec/s, libFuzzer's final cov and ft, corpus size.
# Work folders, logs and crashing inputs: build/fuzz/run/<target>/ (TICKSTREAM_FUZZ_WORK names another).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECS="${1:-60}"
TARGETS=(csv config store)
BUILD="$ROOT/build/fuzz"
WORK="${TICKSTREAM_FUZZ_WORK:-$BUILD/run}"
FUZZ="$ROOT/tests/fuzz"

cd "$ROOT"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$FUZZ/lsan.supp:print_suppressions=0"

fail() { echo "fuzz: FAIL: $*" >&2; exit 1; }

# replay TARGET: every regression input must run clean.
replay() {
  local t=$1 bin=$2 dir="$FUZZ/regressions/$1"
  local files=("$dir"/*)
  [[ -e "${files[0]}" ]] || return 0
  "$bin" -rss_limit_mb=2048 -timeout=20 "${files[@]}" >"$WORK/$t/replay.log" 2>&1 \
    || fail "$t: a regression input fails again: see $WORK/$t/replay.log"
}

# A timeout is the known HDF5 loop when, replayed, it still times out with the global heap's cache
# load on its stack (H5HG__protect -> H5AC_protect -> H5C_protect -> the collection's decoder).
known_timeout() {
  local bin=$1 input=$2 log="$2.log"
  "$bin" -timeout=5 -rss_limit_mb=2048 "$input" >"$log" 2>&1 && return 1
  grep -q "ERROR: libFuzzer: timeout" "$log" && grep -m1 -E " in H5[A-Za-z_]+ " "$log" | grep -q "H5C_protect" \
    && grep -q " in H5HG__protect " "$log"
}

# The last "cov: N ft: N corp: N" line of a log and the executions/exec/s libFuzzer reported.
figures() {
  local t=$1 log=$2 corpus=$3 timeouts=$4
  python3 - "$t" "$log" "$corpus" "$timeouts" <<'PYEOF'
import json, os, re, sys
t, log, corpus, timeouts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
text = open(log, errors="replace").read()
stats = re.findall(r"^#(\d+):?\s+\S*\s*cov: (\d+) ft: (\d+) corp: (\d+).*?exec/s:? (\d+)", text, re.M)
execs, cov, ft, _, eps = (int(x) for x in stats[-1]) if stats else (0, 0, 0, 0, 0)
files = [f for f in os.listdir(corpus)]
print(json.dumps({"target": t, "executions": execs, "exec_per_s": eps, "cov": cov, "ft": ft,
                  "corpus_files": len(files),
                  "corpus_bytes": sum(os.path.getsize(os.path.join(corpus, f)) for f in files),
                  "known_third_party_timeouts": timeouts}))
PYEOF
}

for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  rm -rf "${WORK:?}/$t"
  mkdir -p "$WORK/$t/corpus" "$WORK/$t/artifacts"
  replay "$t" "$bin"
  cp "$FUZZ/corpus/$t"/* "$WORK/$t/corpus/"
  # Fork mode (one job at a time) keeps fuzzing past a timeout so that it can be classified below;
  # a crash, sanitizer report, leak or out-of-memory still stops the run.
  rc=0
  "$bin" -fork=1 -ignore_timeouts=1 -ignore_ooms=0 -ignore_crashes=0 -seed=1 -max_total_time="$SECS" \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$WORK/$t/artifacts/" "$WORK/$t/corpus" \
    >"$WORK/$t/fuzz.log" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || fail "$t: libFuzzer exit $rc (a crash, sanitizer report, leak or OOM): see $WORK/$t/fuzz.log and $WORK/$t/artifacts/"
  known=0
  for input in "$WORK/$t/artifacts"/timeout-*; do
    [[ -e "$input" ]] || continue
    known_timeout "$bin" "$input" || fail "$t: timeout on $input (not the known HDF5 global-heap loop): see $input.log"
    known=$((known + 1))
  done
  figures "$t" "$WORK/$t/fuzz.log" "$WORK/$t/corpus" "$known"
done
