#!/usr/bin/env bash
# CI step: builds the `fuzz` preset (build/fuzz) and runs each libFuzzer target for a bounded time.
#   tests/fuzz/run.sh [seconds-per-target]      (default 60)
# Per target: replays every file of tests/fuzz/regressions/<target>/ (inputs that once crashed), then
# fuzzes a copy of tests/fuzz/corpus/<target>/ (fixed seed, -max_total_time, -rss_limit_mb, -timeout).
# Fails on any crash, sanitizer report, leak, out-of-memory or timeout; the one exception is an input
# that fails inside HDF5's global heap decoder (tests/fuzz/known-third-party/README.md), counted.
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
[[ -x "$BUILD/tests/fuzz/fuzz_parquet" ]] && TARGETS+=(parquet)  # built when Arrow is found

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

# An input that fails (crash, sanitizer report, timeout) is a known third-party defect when, replayed,
# it still fails inside HDF5's global heap: its first HDF5 frame is the collection's load or read
# (H5C_protect under H5HG__protect: the decoder's loop; H5HG_read: its unchecked copy).
known_third_party() {
  local bin=$1 input=$2 log="$2.log"
  "$bin" -timeout=5 -rss_limit_mb=2048 "$input" >"$log" 2>&1 && return 1
  grep -m1 -E " in H5[A-Za-z_]+ " "$log" | grep -qE " in (H5C_protect|H5HG_read) " \
    && grep -qE " in H5HG_(_protect|read) " "$log"
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
                  "known_third_party": timeouts}))
PYEOF
}

for t in "${TARGETS[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$t"
  rm -rf "${WORK:?}/$t"
  mkdir -p "$WORK/$t/corpus" "$WORK/$t/artifacts"
  replay "$t" "$bin"
  cp "$FUZZ/corpus/$t"/* "$WORK/$t/corpus/"
  # Fork mode (one job at a time) keeps fuzzing past a failing input, so that each can be classified
  # below: every one fails the run unless it is the known HDF5 global-heap defect.
  rc=0
  "$bin" -fork=1 -ignore_timeouts=1 -ignore_crashes=1 -ignore_ooms=1 -seed=1 -max_total_time="$SECS" \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$WORK/$t/artifacts/" "$WORK/$t/corpus" \
    >"$WORK/$t/fuzz.log" 2>&1 || rc=$?
  # A non-zero exit (70: timeouts, 1/77: crashes that fork mode went past) must come with the
  # inputs that caused it, each classified below.
  [[ $rc -eq 0 ]] || compgen -G "$WORK/$t/artifacts/*" >/dev/null || fail "$t: libFuzzer exit $rc: see $WORK/$t/fuzz.log"
  known=0
  for input in "$WORK/$t/artifacts"/*; do
    [[ -e "$input" && "$input" != *.log ]] || continue
    [[ -s "$input" ]] || grep -q "$(basename "$input")" "$WORK/$t/fuzz.log" || continue  # fork mode's empty copy
    known_third_party "$bin" "$input" \
      || fail "$t: $(basename "$input") (a crash, sanitizer report, leak, OOM or timeout): see $input.log and $WORK/$t/fuzz.log"
    known=$((known + 1))
  done
  figures "$t" "$WORK/$t/fuzz.log" "$WORK/$t/corpus" "$known"
done
