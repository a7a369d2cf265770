#!/usr/bin/env bash
# A host lost during training, on 3 test hosts (tests/hosts/cluster.sh), one rank each:
# (a) node3's link cut, (b) every process of node3 killed. Each time the job ends on the surviving
# hosts within the communicator timeout plus 10 s, with a non-zero exit and a message naming the
# missing rank and its host; the checkpoints left are complete (no temporary file) and training
# resumes from the newest on the 2 hosts that remain. Exit 77 where namespaces cannot be made.
# Usage: tests/hosts/faults.sh BIN WORK
source "$(dirname "$0")/../e2e/common.sh"
source "$(dirname "$0")/common.sh"
hosts_up 3
TIMEOUT_S=8
PY=/usr/bin/python3
HOSTS3=$(hostfile 3) HOSTS2=$(hostfile 2)

"$BIN" synth --tickers 40 --days 330 --seed 9 --signal 0.2 --store "$WORK/s.h5" >/dev/null
small_job "[train]
batch_size = 32
max_steps = 1000000
eval_every = 1000000
checkpoint_every = 20
[dist]
timeout_s = $TIMEOUT_S"
expect_exit 0 "$BIN" features --config "$WORK/job.toml"

# lose HOW: trains on 3 hosts, then at the first checkpoint loses node3 (HOW = cut | kill).
lose() {
  local how="$1" ckpt="$WORK/ckpt-$1" start took rc
  "$ROOT/launch/multinode.sh" "$HOSTS3" "$WORK/job.toml" train --set "train.checkpoint_dir=\"$ckpt\"" \
    --set "train.metrics=\"$WORK/metrics-$how.jsonl\"" > "$WORK/$how.out" 2> "$WORK/$how.err" &
  local job=$!
  for ((i = 0; i < 600; ++i)); do compgen -G "$ckpt/ckpt-*.pt" >/dev/null && break; sleep 0.1; done
  compgen -G "$ckpt/ckpt-*.pt" >/dev/null || { kill $job; cat "$WORK/$how.err" >&2; fail "$how: no checkpoint within 60 s"; }
  start=$(date +%s.%N)
  if [[ $how == cut ]]; then "$CLUSTER" cut node3; else "$CLUSTER" kill node3; fi
  set +e
  timeout $((TIMEOUT_S + 60)) tail --pid=$job -f /dev/null
  wait $job; rc=$?
  set -e
  took=$($PY -c "print(f'{$(date +%s.%N) - $start:.1f}')")
  echo "faults: node3 ${how}: the job ended after $took s with exit $rc"
  [[ $rc -ne 0 ]] || fail "$how: the job exited 0"
  $PY -c "import sys; sys.exit(0 if $took <= $TIMEOUT_S + 10 else 1)" ||
    { cat "$WORK/$how.err" >&2; fail "$how: took $took s to end (limit $TIMEOUT_S + 10 s)"; }
  # Named by the rank that timed out waiting (cut) or by the launcher when mpirun lost the host (kill).
  grep -Eq "rank 2 \(node3\) never entered|lost host node3 \(its ranks: 2\)" "$WORK/$how.err" ||
    { cat "$WORK/$how.err" >&2; fail "$how: no message names rank 2 on node3"; }
  ! compgen -G "$ckpt/*.tmp*" >/dev/null || fail "$how: a temporary checkpoint file was left: $(ls "$ckpt")"
  # Resume on the 2 hosts left, from the newest complete checkpoint, for 10 more steps.
  local step
  step=$(ls "$ckpt" | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.pt$/\1/p' | sort -n | tail -1)
  "$CLUSTER" heal node3
  expect_exit 0 "$ROOT/launch/multinode.sh" "$HOSTS2" "$WORK/job.toml" train --resume \
    --set "train.checkpoint_dir=\"$ckpt\"" --set "train.metrics=\"$WORK/metrics-$how.jsonl\"" \
    --set train.max_steps=$((step + 10))
  grep -q "max_steps after $((step + 10)) steps" "$WORK/stdout" || { cat "$WORK/stdout" >&2; fail "$how: resume did not reach step $((step + 10))"; }
  echo "faults: node3 ${how}: resumed from step $step on 2 hosts"
}

for how in ${TICKSTREAM_FAULTS:-cut kill}; do
  lose "$how"
  "$CLUSTER" kill node3 || true  # what the cut left running there
done
echo "faults: OK"
