#!/usr/bin/env bash
# Communicator failures end the job with a diagnosis: a rank that skips a collective is named, a
# missing rank 0 is reported by the others, a rank's abort message reaches stderr, a mismatched
# call is named. $1 = tests/comm_timeout_main, $2 = scratch directory.
source "$(dirname "$0")/common.sh"

# scenario NAME MAX_SECONDS: runs NAME on 3 ranks; it must fail within MAX_SECONDS.
scenario() {
  local name="$1" max_s="$2"
  local start end rc
  start=$(date +%s.%N)
  set +e
  timeout 120 "${MPIRUN[@]}" -np 3 "$BIN" "$name" >"$WORK/stdout" 2>"$WORK/stderr"
  rc=$?
  set -e
  end=$(date +%s.%N)
  local took
  took=$(/usr/bin/python3 -c "print(f'{$end - $start:.1f}')")
  echo "$name: exit $rc after $took s"
  [[ $rc -ne 0 ]] || { cat "$WORK/stdout" "$WORK/stderr" >&2; fail "$name: the job exited 0"; }
  [[ $rc -ne 124 ]] || { cat "$WORK/stderr" >&2; fail "$name: the job hung (killed by timeout)"; }
  /usr/bin/python3 -c "import sys; sys.exit(0 if $end - $start < $max_s else 1)" ||
    { cat "$WORK/stderr" >&2; fail "$name: took $took s, more than $max_s s"; }
}

# Rank 1 skips the allreduce of step 3 and sleeps 60 s; rank 0 (timeout 1 s) names it.
scenario missing-rank 20
expect_stderr "error: rank 0 on .*: collective #6 allreduce(f32 x 4096, avg) did not complete within 1 s: rank 1 (.*) never entered it"

# Rank 0 is the one that sleeps: the others abort after timeout + grace, saying so.
scenario missing-root 20
expect_stderr "rank 0 holds the arrival board and did not report the missing ranks within 1 s more (rank 0 may be the missing rank)"

# Rank 2 throws mid-loop and aborts the communicator; the others are waiting (timeout 300 s).
scenario throw 10
expect_stderr "error: rank 2 on .*: boom on rank 2"

# Rank 1 calls max where the others call avg: rank 0 names the difference.
scenario mismatch 20
expect_stderr "collective #6: rank 1 called allreduce(f32 x 4096, max) but rank 0 called allreduce(f32 x 4096, avg)"

echo "comm_timeout: ok"
