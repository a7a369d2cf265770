# Shared helpers for the e2e scripts: $1 = tickstream binary, $2 = scratch directory.
set -euo pipefail
BIN="$1"
WORK="$2"
rm -rf "$WORK"
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe --bind-to none)

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD...: runs CMD with stderr captured in $WORK/stderr, checks its exit code.
expect_exit() {
  local want="$1"; shift
  set +e
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  local got=$?
  set -e
  [[ $got -eq $want ]] || { cat "$WORK/stderr" >&2; fail "exit $got, expected $want: $*"; }
}

expect_stderr() { grep -q -- "$1" "$WORK/stderr" || { cat "$WORK/stderr" >&2; fail "stderr lacks '$1'"; }; }
