#!/usr/bin/env bash
# SIGKILL at random moments (20 per command, seeded) during ingest, features, training with a
# checkpoint at every step, and a prediction write: the output is always either the previous
# complete state or the new complete one (the store verifies, predictions equal the reference or
# are absent, every checkpoint left loads), never a file a later run reads as valid by mistake;
# a temporary file may be left (SIGKILL cannot be caught) under its own name; and the next run
# succeeds without any cleanup.
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
KILLS="${TICKSTREAM_KILLS:-20}"
RANDOM=2026  # seeded delays

# (big enough that ingest and features, one process without MPI, run ~0.2 s or more)
"$BIN" synth --tickers 300 --days 600 --seed 4 --signal 0.2 --csv-dir "$WORK/csv" >/dev/null
small_job "[train]
batch_size = 32
max_steps = 100000
epochs = 100000
eval_every = 100000
checkpoint_every = 1
checkpoint_dir = \"$WORK/ckpt\"
metrics = \"$WORK/metrics.jsonl\"
tensorboard_dir = \"$WORK/tb\""

# timed CMD...: runs CMD (must succeed); sets SPAN_MS to its wall time.
timed() {
  local t0; t0=$(date +%s%N)
  expect_exit 0 "$@"
  SPAN_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# timed_best CMD...: as timed, twice, keeping the shorter time: for a command whose first run is
# slower than the rest (a cold page cache, prediction loading libtorch cold), so that the kills do
# not land after the later runs have ended.
timed_best() {
  timed "$@"
  local first=$SPAN_MS
  timed "$@"
  ((first < SPAN_MS)) && SPAN_MS=$first
  return 0
}

# killed_at CMD...: runs CMD and SIGKILLs it at a random moment between 30 % and 80 % of SPAN_MS
# (a normal run's wall time, exit included: its writes come late); counts in HITS the kills that
# found it running (a kill there may come before the write: write_kill below kills surely
# mid-write).
HITS=0
killed_at() {
  local ms=$((SPAN_MS * 3 / 10 + RANDOM % (SPAN_MS * 5 / 10 + 1)))
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"  # no interpreter start-up in the delay
  kill -9 "$pid" 2>/dev/null && HITS=$((HITS + 1))
  wait "$pid" 2>/dev/null || true
}

# write_kill POINT TEMPS CMD...: CMD killed (SIGKILL) at its write fault point POINT: exit 137, and
# TEMPS temporary files at least left (ingest's and features' points are mid-write, prediction's
# just before its sink writes); the next run that writes the output removes them (their process
# is gone).
write_kill() {
  local point="$1" want="$2"; shift 2
  set +e
  TICKSTREAM_INJECT_FAULT="$point@0:kill" "$@" >/dev/null 2>&1
  local rc=$?
  set -e
  [[ $rc -eq 137 ]] || fail "$point: exit $rc, expected 137 (killed)"
  local left; left=$(ls "$WORK" | grep -c '\.tmp-' || true)
  ((left >= want)) || fail "$point: the kill left $left temporary files, expected $want or more: not mid-write"
  echo "kill_mid_write: $point: killed, $left temporary file(s) left"
}

# hit_enough WHAT: half the kills at least must have found the command running (else the test
# tests nothing; on a loaded machine a run may end sooner than the timed one).
hit_enough() {
  ((HITS >= KILLS / 2)) || fail "$1: only $HITS of $KILLS kills found it running"
  echo "kill_mid_write: $1 killed $HITS times mid-run (of $KILLS tries within its ${SPAN_MS} ms)"
  HITS=0
}

# A complete store as the previous state of every kill below.
timed_best "$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5"
for ((i = 0; i < KILLS; ++i)); do
  killed_at "$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5"
  expect_exit 0 "$BIN" inspect --verify "$WORK/s.h5"
done
hit_enough ingest
write_kill ingest_write 1 "$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5"
expect_exit 0 "$BIN" inspect --verify "$WORK/s.h5"

# (--force: every run computes and writes, as the timed one)
timed_best "$BIN" features --config "$WORK/job.toml" --force
for ((i = 0; i < KILLS; ++i)); do
  killed_at "$BIN" features --config "$WORK/job.toml" --force
  expect_exit 0 "$BIN" inspect --verify "$WORK/s.h5"
  expect_exit 0 "$BIN" inspect --json "$WORK/s.h5"
  grep -q '"features/values"' "$WORK/stdout" || fail "a killed features run left a store without /features"
done
hit_enough features
# (another horizon: the cached features of this config would be kept without a write)
write_kill features_write 1 "$BIN" features --config "$WORK/job.toml" --set features.horizon=2
expect_exit 0 "$BIN" inspect --verify "$WORK/s.h5"
expect_exit 0 "$BIN" features --config "$WORK/job.toml" --set features.horizon=2  # writes: removes the temp
expect_exit 0 "$BIN" features --config "$WORK/job.toml"

SPAN_MS=3000  # training runs until killed: a checkpoint is being written most of the time
for ((i = 0; i < KILLS; ++i)); do
  resume=()
  compgen -G "$WORK/ckpt/ckpt-*.pt" >/dev/null && resume=(--resume)
  killed_at "$BIN" train --config "$WORK/job.toml" "${resume[@]}"
done
hit_enough training
newest=$(ls "$WORK/ckpt" | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.pt$/\1/p' | sort -n | tail -1)
[[ -n "$newest" ]] || fail "no checkpoint after $KILLS killed training runs"
expect_exit 0 "$BIN" train --config "$WORK/job.toml" --resume --set train.max_steps=$((newest + 2))
grep -q "max_steps after $((newest + 2)) steps" "$WORK/stdout" || fail "the resumed run did not reach step $((newest + 2))"
echo "kill_mid_write: after the killed training runs (a checkpoint every step), resumed from step $newest"

LAST=$("$BIN" inspect "$WORK/s.h5" --json | $PY -c "import json,sys; print(json.load(sys.stdin)['last_time'])")
P=(predict --config "$WORK/job.toml" --checkpoint "$WORK/ckpt" --asof "$LAST")
timed_best "$BIN" "${P[@]}" --out "$WORK/ref.csv"
for ((i = 0; i < KILLS; ++i)); do
  rm -f "$WORK/p.csv" "$WORK/p.skipped.csv"
  killed_at "$BIN" "${P[@]}" --out "$WORK/p.csv"
  [[ ! -e "$WORK/p.csv" ]] || cmp -s "$WORK/p.csv" "$WORK/ref.csv" || fail "a killed prediction left a p.csv unlike the reference"
done
hit_enough prediction
rm -f "$WORK/p.csv" "$WORK/p.skipped.csv"
write_kill predict_write 0 "$BIN" "${P[@]}" --out "$WORK/p.csv"
[[ ! -e "$WORK/p.csv" ]] || fail "a prediction killed while writing left p.csv"
expect_exit 0 "$BIN" "${P[@]}" --out "$WORK/p.csv"
cmp "$WORK/p.csv" "$WORK/ref.csv" || fail "the prediction after the kills differs from the reference"
# Later runs removed what killed runs of this host left (their processes are gone).
[[ $(ls "$WORK" | grep -c '\.tmp-' || true) -eq 0 ]] || fail "temporary files of killed runs remain: $(ls "$WORK")"
echo "kill_mid_write: OK"
