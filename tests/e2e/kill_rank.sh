#!/usr/bin/env bash
# A rank killed by SIGKILL (the OOM killer, a lost node) during ingest, features, train or predict,
# at 2 and 3 ranks: the whole job ends within 30 s with a non-zero exit, the launcher names the
# killed rank, and no output file (final or temporary) is left behind. The last rank kills itself
# at a fault point where the other ranks are inside that command's collectives
# (TICKSTREAM_INJECT_FAULT=<point>@<rank>:kill, src/runtime/fault.hpp).
source "$(dirname "$0")/common.sh"

"$BIN" synth --tickers 24 --days 300 --seed 5 --signal 0.2 --csv-dir "$WORK/csv" >/dev/null
"$BIN" synth --tickers 24 --days 300 --seed 5 --signal 0.2 --store "$WORK/s.h5" >/dev/null
small_job "[train]
batch_size = 16
max_steps = 200
eval_every = 100
checkpoint_every = 1
checkpoint_dir = \"$WORK/ckpt\"
metrics = \"$WORK/metrics.jsonl\"
tensorboard_dir = \"$WORK/tb\""
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
CLEAN_STORE=$(md5sum "$WORK/s.h5" | cut -d' ' -f1)
# A checkpoint to predict from, made before any kill.
expect_exit 0 "$BIN" train --config "$WORK/job.toml" --set train.max_steps=2 --set train.checkpoint_dir="$WORK/base"
LAST=$("$BIN" inspect "$WORK/s.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['last_time'])")

# killed NP POINT OUTPUT CMD...: rank NP-1 dies at POINT; checks the job's end and OUTPUT.
killed() {
  local np="$1" point="$2" output="$3"; shift 3
  local victim=$((np - 1)) start took rc
  start=$(date +%s.%N)
  set +e
  timeout 120 "${MPIRUN[@]}" -x TICKSTREAM_INJECT_FAULT="$point@$victim:kill" -np "$np" "$BIN" "$@" \
    >"$WORK/stdout" 2>"$WORK/stderr"
  rc=$?
  set -e
  took=$(/usr/bin/python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
  echo "$point at $np ranks: exit $rc after $took s"
  [[ $rc -ne 0 ]] || { cat "$WORK/stderr" >&2; fail "$point at $np ranks: the job exited 0"; }
  [[ $rc -ne 124 ]] || { cat "$WORK/stderr" >&2; fail "$point at $np ranks: the job hung (timeout 120 s)"; }
  /usr/bin/python3 -c "import sys; sys.exit(0 if $took <= 30 else 1)" ||
    fail "$point at $np ranks: took $took s to end (limit 30 s)"
  grep -q "rank $victim .*exited on signal 9" "$WORK/stderr" ||
    { cat "$WORK/stderr" >&2; fail "$point at $np ranks: the killed rank $victim is not named"; }
  [[ -z "$output" || ! -e "$output" ]] || fail "$point at $np ranks: output $output exists after the kill"
  local left
  left=$(find "$WORK" -name '*.tmp-*' | head -3)
  [[ -z "$left" ]] || fail "$point at $np ranks: temporary files left: $left"
}

for np in 2 3; do
  killed $np ingest_write "$WORK/ingested.h5" ingest --input "$WORK/csv" --store "$WORK/ingested.h5"
  killed $np features_write "" features --config "$WORK/job.toml" --set features.horizon=3
  [[ "$(md5sum "$WORK/s.h5" | cut -d' ' -f1)" == "$CLEAN_STORE" ]] ||
    fail "features at $np ranks: the store changed after a killed run"
  rm -rf "$WORK/ckpt"
  killed $np train_step "" train --config "$WORK/job.toml"
  for f in "$WORK"/ckpt/ckpt-*.pt; do  # every checkpoint there is complete (its manifest exists)
    [[ -e "$f" ]] || continue
    [[ -e "${f%.pt}.json" ]] || fail "train at $np ranks: $f has no manifest"
  done
  killed $np predict_write "$WORK/p.csv" predict --config "$WORK/job.toml" --checkpoint "$WORK/base" \
    --asof "$LAST" --out "$WORK/p.csv"
  killed $np predict_write "$WORK/p.h5" predict --config "$WORK/job.toml" --checkpoint "$WORK/base" \
    --asof "$LAST" --out "$WORK/p.h5"
done
echo "kill_rank: ok"
