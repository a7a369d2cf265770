#!/usr/bin/env bash
# PostgreSQL faults (issue 20, item 5), on a server of its own (tests/pg/server.sh under a
# temporary TICKSTREAM_PG_DIR, restarted and stopped here): (e) a taken port does not stop
# server.sh; (a) a rank failing or killed mid-write at 2 and 3 ranks leaves no row of its run;
# (b) a server restart during the write transaction is retried and the run lands whole, once;
# (c) a server down past the retry budget ends the run with exit 2 and no row; (d) a wrong
# password, an unknown user, a missing database and no database name are exit 2 at once with
# the server's reason, the password in no output. Exit 77 (skipped) without TICKSTREAM_PG_URL.
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
[[ -n "${TICKSTREAM_PG_URL:-}" ]] || { echo "SKIP: TICKSTREAM_PG_URL unset (tests/run.sh starts a server)"; exit 77; }
SERVER="${TICKSTREAM_SOURCE_DIR:?}/tests/pg/server.sh"
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null ||
  { echo "SKIP: no PostgreSQL server binaries (launch/install-deps.sh installs them)"; exit 77; }
unset TICKSTREAM_PG_PORT
export TICKSTREAM_PG_DIR
TICKSTREAM_PG_DIR="$(mktemp -d /tmp/tickstream-pgf-XXXXXX)"
HOLDER=""
cleanup() {
  [[ -n "$HOLDER" ]] && kill "$HOLDER" 2>/dev/null
  "$SERVER" stop || true
}
trap cleanup EXIT

# (e) A port already taken (55432, server.sh's first choice, held here unless something holds it
# already, and one more): server.sh still starts, elsewhere; a taken TICKSTREAM_PG_PORT is named.
$PY - "$WORK/held" <<'PY' &
import socket, sys, time
held = []
for port in (55432, 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); s.listen(); held.append(s)
    except OSError:
        pass
open(sys.argv[1], "w").write(" ".join(str(s.getsockname()[1]) for s in held))
time.sleep(600)
PY
HOLDER=$!
for _ in $(seq 50); do [[ -s "$WORK/held" ]] && break; sleep 0.1; done
HELD=$(awk '{print $NF}' "$WORK/held")
expect_exit 1 env TICKSTREAM_PG_PORT="$HELD" TICKSTREAM_PG_DIR="$TICKSTREAM_PG_DIR-fixed" "$SERVER" start
expect_stderr "port $HELD (TICKSTREAM_PG_PORT) is taken"
rm -rf "$TICKSTREAM_PG_DIR-fixed"
URL0=$("$SERVER" start)
PORT=$(cat "$TICKSTREAM_PG_DIR/port")
[[ "$URL0" == "postgresql://postgres@127.0.0.1:$PORT/tickstream_test" && "$("$SERVER" url)" == "$URL0" ]] ||
  fail "server.sh: URL $URL0, port file $PORT"
for p in $(cat "$WORK/held"); do [[ $PORT -ne $p ]] || fail "server.sh started on held port $p"; done
kill "$HOLDER"; HOLDER=""
echo "(e) ports $(cat "$WORK/held") taken: server.sh started on $PORT"
sql() { psql "$URL0" -tAqc "$1"; }

# A small model (common.sh), scored at its last date.
small_model
LAST=${LAST:0:10}
RANGE=(--from 2011-03-01 --to 2011-03-31)
expect_exit 0 "$BIN" "${P[@]}" "${RANGE[@]}" --out "$WORK/range.csv"
RANGE_ROWS=$(($(wc -l < "$WORK/range.csv") - 1))
RANGE_SKIPPED=$(($(wc -l < "$WORK/range.skipped.csv") - 1))
out() { echo "$URL0?table=$1"; }
# count TABLE: "<predictions> <skipped> <distinct keys of both>".
count() {
  sql "SELECT (SELECT count(*) FROM $1), (SELECT count(*) FROM ${1}_skipped),
       (SELECT count(*) FROM (SELECT model_id, ticker, asof FROM $1 UNION
                              SELECT model_id, ticker, asof FROM ${1}_skipped) k)" | tr '|' ' '
}
# Waits (up to 60 s) for the line "injected pause" in file $1.
wait_pause() {
  for _ in $(seq 600); do grep -q "injected pause" "$1" 2>/dev/null && return; sleep 0.1; done
  cat "$1" >&2; fail "no injected pause in $1"
}

# (a) A rank failing (InternalError) or killed (SIGKILL) mid-write, at 2 and 3 ranks: rank 0 after
# upserting the whole run inside its transaction (before COMMIT), the last rank while preparing its
# share. The table keeps exactly the previous run (one as-of date), nothing of the failed one.
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" "${P[@]}" --asof "$LAST" --out "$(out ranks)"
BEFORE=$(count ranks)
tried=0
for np in 2 3; do
  for point in pg_commit@0 "pg_rows@$((np - 1))"; do
    for mode in "" ":kill"; do
      set +e
      timeout 120 "${MPIRUN[@]}" -x TICKSTREAM_INJECT_FAULT="$point$mode" -np $np "$BIN" "${P[@]}" "${RANGE[@]}" \
        --out "$(out ranks)" >"$WORK/stdout" 2>"$WORK/stderr"
      rc=$?
      set -e
      [[ $rc -ne 0 && $rc -ne 124 ]] || { cat "$WORK/stderr" >&2; fail "$np ranks, $point$mode: exit $rc"; }
      [[ -n "$mode" ]] || { [[ $rc -eq 1 ]] && expect_stderr "injected fault at ${point%@*}"; } ||
        fail "$np ranks, $point: exit $rc"
      [[ "$(count ranks)" == "$BEFORE" ]] || fail "$np ranks, $point$mode: table now $(count ranks), was $BEFORE"
      tried=$((tried + 1))
    done
  done
done
[[ -z "$(sql "SELECT pid FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")" ]] ||
  fail "a transaction was left open"
echo "(a) $tried failed writes at 2 and 3 ranks: the table kept the previous run ($BEFORE)"

# (b) The server restarted (fast: open connections cut) while rank 0 pauses inside the write
# transaction: the attempt fails, the next one writes the whole run; every row once.
TICKSTREAM_INJECT_FAULT=pg_commit@0:sleep=3 "${MPIRUN[@]}" -x TICKSTREAM_INJECT_FAULT -np 2 "$BIN" "${P[@]}" \
  "${RANGE[@]}" --out "$(out restart)" >"$WORK/b.out" 2>"$WORK/b.err" &
PRED=$!
wait_pause "$WORK/b.err"
T0=$(date +%s.%N)
"$SERVER" restart
T_RESTART=$($PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$T0" "$(date +%s.%N)")
set +e; wait $PRED; rc=$?; set -e
[[ $rc -eq 0 ]] || { cat "$WORK/b.err" >&2; fail "(b) exit $rc after a server restart"; }
grep -q "attempt 1 of 5 failed" "$WORK/b.err" || { cat "$WORK/b.err" >&2; fail "(b) no retry logged"; }
WRITTEN=$(grep -o "written on attempt 2 after [0-9.]* s" "$WORK/b.err") || { cat "$WORK/b.err" >&2; fail "(b) not written on attempt 2"; }
WANT="$RANGE_ROWS $RANGE_SKIPPED $((RANGE_ROWS + RANGE_SKIPPED))"
[[ "$(count restart)" == "$WANT" ]] || fail "(b) table holds $(count restart), want $WANT"
echo "(b) restart took $T_RESTART s; $WRITTEN (2 pauses of 3 s included); rows $WANT (predictions, skipped, distinct keys)"

# (c) The server stopped during the write and not started again: 5 attempts over the default
# 30 s budget, then exit 2 naming the target and the last reason; nothing written.
TICKSTREAM_INJECT_FAULT=pg_commit@0:sleep=2 "${MPIRUN[@]}" -x TICKSTREAM_INJECT_FAULT -np 2 "$BIN" "${P[@]}" \
  "${RANGE[@]}" --out "$(out down)" >"$WORK/c.out" 2>"$WORK/c.err" &
PRED=$!
wait_pause "$WORK/c.err"
"$SERVER" stop-server
T0=$(date +%s)
set +e; wait $PRED; rc=$?; set -e
T_DOWN=$(($(date +%s) - T0))
"$SERVER" start-server
[[ $rc -eq 2 ]] || { cat "$WORK/c.err" >&2; fail "(c) exit $rc with the server down"; }
grep -q "gave up after 5 attempts in .* s (retry_s=30): cannot connect: .*Connection refused" "$WORK/c.err" ||
  { cat "$WORK/c.err" >&2; fail "(c) no clear message"; }
grep -q "^error: .*--out $URL0?table=down" "$WORK/c.err" || { cat "$WORK/c.err" >&2; fail "(c) target not named"; }
[[ "$(count down)" == "0 0 0" ]] || fail "(c) table holds $(count down)"
echo "(c) server down: exit 2 after $T_DOWN s: $(grep -o "gave up after [^(]*" "$WORK/c.err" | head -1)"

# (d) Credentials and databases: exit 2 at once (no retry) with the server's reason; the password
# never in stdout, stderr or the per-rank log files (-v: debug level).
SECRET=wrong-secret-8e1f
HOSTPORT="127.0.0.1:$PORT"
check_refused() {  # URI REASON
  rm -rf "$WORK/logs"
  local t0=$SECONDS
  expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" -v --log-dir "$WORK/logs" "${P[@]}" --asof "$LAST" --out "$1"
  expect_stderr "$2"
  ! grep -q "retrying" "$WORK/stderr" || fail "retried: $1"
  [[ $((SECONDS - t0)) -lt 20 ]] || fail "took $((SECONDS - t0)) s: $1"
  ! grep -rq -- "$SECRET" "$WORK/stdout" "$WORK/stderr" "$WORK/logs" || fail "password shown: $1"
  local masked="${1//"$SECRET"/***}"
  grep -qF -- "--out $masked" "$WORK/stderr" || fail "target not named: $masked"
}
check_refused "postgresql://tickstream_pw:$SECRET@$HOSTPORT/tickstream_test" \
  'password authentication failed for user "tickstream_pw"'
check_refused "postgresql://nobody_here:$SECRET@$HOSTPORT/tickstream_test" \
  'password authentication failed for user "nobody_here"'
check_refused "postgresql://tickstream_pw@$HOSTPORT/tickstream_test?password=$SECRET" \
  'password authentication failed for user "tickstream_pw"'
check_refused "postgresql://postgres:$SECRET@$HOSTPORT/no_such_db" 'database "no_such_db" does not exist'
check_refused "postgresql://tickstream_pw:$SECRET@$HOSTPORT" "no database name"
check_refused "postgresql://tickstream_pw:$SECRET@$HOSTPORT/" "no database name"
# The right password works and is not shown either.
SECRET=tickstream-pw-secret
rm -rf "$WORK/logs"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" -v --log-dir "$WORK/logs" "${P[@]}" --asof "$LAST" \
  --out "postgresql://tickstream_pw:$SECRET@$HOSTPORT/tickstream_test?table=pw"
grep -q "wrote PostgreSQL postgresql://tickstream_pw:\*\*\*@" "$WORK/stdout" || fail "(d) no summary"
! grep -rq -- "$SECRET" "$WORK/stdout" "$WORK/stderr" "$WORK/logs" || fail "(d) password shown"
echo "(d) bad password, unknown user, missing database, no database: exit 2 at once, password hidden"
echo "PostgreSQL faults OK"
