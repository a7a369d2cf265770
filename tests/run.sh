#!/usr/bin/env bash
# The README's second command: installs, builds (release preset, CUDA when nvcc is present), runs
# ctest, then the README's first command (launch/quickstart.sh) end to end, then the sanitizer and
# fuzzing steps (tests/asan/run.sh, tests/fuzz/run.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/launch/install-deps.sh"
"$ROOT/launch/build.sh" release
# Where nvcc is installed the release build must be the CUDA build (AUTO must not have fallen back).
if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  "$ROOT/build/release/tickstream" version --json | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["cuda"]["built"] and j["nccl"]["built"], "nvcc is installed but the release build has no CUDA: " + j["cuda"]["build_note"]
print("tests/run.sh: CUDA build:", j["cuda"]["build_note"], "| libtorch", j["libtorch"]["version"], "| gpus", j["gpus"])'
fi
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# A PostgreSQL server on loopback for the postgresql:// sink tests, stopped on exit (an existing
# TICKSTREAM_PG_URL is used as is).
if [[ -z "${TICKSTREAM_PG_URL:-}" ]]; then
  TICKSTREAM_PG_URL="$("$ROOT/tests/pg/server.sh" start)"
  export TICKSTREAM_PG_URL
  trap '"$ROOT/tests/pg/server.sh" stop' EXIT
fi
cd "$ROOT/build/release"
ctest --output-on-failure --timeout 600 "$@"
# The quickstart (synth -> ingest -> features -> train -> predict on 2 ranks), unless ctest was
# given arguments (a filter: a partial run).
if [[ $# -eq 0 ]]; then
  "$ROOT/launch/quickstart.sh"
  [[ -s "$ROOT/runs/quickstart/predictions.csv" && -s "$ROOT/runs/quickstart/predictions.h5" ]] ||
    { echo "tests/run.sh: the quickstart wrote no predictions" >&2; exit 1; }
  # Hardening (issue 20): the unit and MPI tests under AddressSanitizer + UBSan, then every fuzz
  # target for a bounded time (60 s each) with its regressions replayed.
  "$ROOT/tests/asan/run.sh"
  "$ROOT/tests/fuzz/run.sh" 60
fi
