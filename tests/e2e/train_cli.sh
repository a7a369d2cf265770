#!/usr/bin/env bash
# train CLI: bad input exits 2; exact resume (2K steps == K + resume K, bit-identical at 2 ranks);
# resume at another rank count; SIGUSR1 checkpoints and exits 0 (also during start-up); a SIGKILLed
# rank ends the job.
source "$(dirname "$0")/common.sh"

"$BIN" synth --tickers 48 --days 420 --seed 3 --signal 0.2 --store "$WORK/s.h5" >/dev/null
job() {  # job NAME [max_steps]: a config whose checkpoints and metrics live under $WORK/NAME
  cat > "$WORK/$1.toml" <<TOML
[data]
store = "$WORK/s.h5"
train_start = 2010-01-04
train_end = 2010-12-31
valid_start = 2011-01-03
valid_end = 2011-08-31
[model]
kind = "gpt"
d_model = 16
n_layers = 1
n_heads = 2
seq_len = 16
dropout = 0.1
[train]
batch_size = 32
epochs = 50
max_steps = ${2:-24}
warmup_steps = 4
eval_every = 8
checkpoint_dir = "$WORK/$1/ckpt"
metrics = "$WORK/$1/metrics.jsonl"
tensorboard_dir = "$WORK/$1/tb"
TOML
}
checksum() { grep -o 'parameters fnv1a [0-9a-f]*' "$WORK/stdout" | awk '{print $3}'; }

job full
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" features --config "$WORK/full.toml"

# Bad input: unknown key, missing store, --resume without a checkpoint.
expect_exit 2 "$BIN" train --config "$WORK/full.toml" --set train.lr_max=1
expect_stderr "unknown key \[train\] lr_max"
expect_exit 2 "$BIN" train --config "$WORK/full.toml" --set data.store="$WORK/none.h5"
expect_exit 2 "$BIN" train --config "$WORK/full.toml" --resume
expect_stderr "no complete checkpoint"

# Exact resume at 2 ranks: 24 steps in one go == 12 steps, stop, resume for 12.
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/full.toml"
FULL=$(checksum)
[[ $(wc -l < "$WORK/full/metrics.jsonl") -eq 3 ]] || fail "expected 3 evaluations in the metrics log"
# Device memory per GPU rank: null where every rank trains on the CPU (this machine, CI).
/usr/bin/python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if all("device_memory_mb" in x and x["device_memory_mb"] is None for x in r) else 1)' \
  "$WORK/full/metrics.jsonl" || fail "metrics records lack device_memory_mb (null on CPU ranks)"
job split
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/split.toml" --stop-after 12
grep -q "stop_after after 12 steps" "$WORK/stdout" || fail "did not stop after 12 steps"
[[ -f "$WORK/split/ckpt/ckpt-00000012.pt" && -f "$WORK/split/ckpt/ckpt-00000012.json" ]] || fail "no step-12 checkpoint"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/split.toml" --resume
[[ "$(checksum)" == "$FULL" ]] || fail "resumed parameters $(checksum) != uninterrupted $FULL"

# A corrupt checkpoint is refused by name; an incomplete one (size differs from its manifest) is
# skipped for the previous complete one.
cp -r "$WORK/split/ckpt" "$WORK/corrupt"
printf 'x' | dd of="$WORK/corrupt/ckpt-00000024.pt" bs=1 seek=100 conv=notrunc status=none
expect_exit 2 "$BIN" train --config "$WORK/split.toml" --set train.checkpoint_dir="$WORK/corrupt" --resume
expect_stderr "ckpt-00000024.pt: content hash differs from its manifest"
cp -r "$WORK/split/ckpt" "$WORK/torn"
printf 'x' >> "$WORK/torn/ckpt-00000024.pt"
expect_exit 0 "$BIN" train --config "$WORK/split.toml" --set train.checkpoint_dir="$WORK/torn" --resume
grep -q "ckpt-00000024.pt: skipped" "$WORK/stdout" "$WORK/stderr" || fail "torn checkpoint not reported"
grep -q "resume: .*ckpt-00000016.pt" "$WORK/stdout" "$WORK/stderr" || fail "did not fall back to step 16"

# A fresh run refuses a directory with an earlier run's checkpoints; --resume refuses another model;
# a checkpoint written before the first evaluation resumes.
expect_exit 2 "$BIN" train --config "$WORK/split.toml"
expect_stderr "already holds checkpoints"
expect_exit 2 "$BIN" train --config "$WORK/split.toml" --resume --set model.d_model=32
expect_stderr "\[model\] d_model: checkpoint 16, config 32"
job early
expect_exit 0 "$BIN" train --config "$WORK/early.toml" --stop-after 3
expect_exit 0 "$BIN" train --config "$WORK/early.toml" --resume
grep -q "max_steps after 24 steps" "$WORK/stdout" || fail "resume from a pre-evaluation checkpoint did not finish"

# Resume at another rank count: continues and says what changed.
job ranks
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/ranks.toml" --stop-after 12
expect_exit 0 "${MPIRUN[@]}" -np 3 "$BIN" train --config "$WORK/ranks.toml" --resume
grep -q "written by 2 ranks" "$WORK/stdout" "$WORK/stderr" || fail "rank-count change not reported"
grep -q "max_steps after 24 steps" "$WORK/stdout" || fail "resumed 3-rank run did not finish"

# An error in rank 1's loader thread reaches its training loop and ends the job with the message.
job fault
TICKSTREAM_INJECT_FAULT=loader_read@1 expect_exit 1 "${MPIRUN[@]}" -x TICKSTREAM_INJECT_FAULT -np 2 "$BIN" train \
  --config "$WORK/fault.toml" --set loader.resident=off --set loader.chunk_bars=32
expect_stderr "injected fault at loader_read on rank 1"

# SIGUSR1 to mpirun (forwarded to the ranks): checkpoint, exit 0, resumable.
job signal 100000
"${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/signal.toml" >"$WORK/sig.out" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [[ -s "$WORK/signal/metrics.jsonl" ]] && break; sleep 0.2; done
[[ -s "$WORK/signal/metrics.jsonl" ]] || fail "training never logged an evaluation"
# Every rank is named tickstream (the huge-page re-exec keeps the executable's name).
NAMED=$(pgrep -x -P "$PID" tickstream | wc -l)
[[ $NAMED -eq 2 ]] || { ps -o pid,comm,args --ppid "$PID" >&2; fail "pgrep -x tickstream finds $NAMED of 2 ranks"; }
kill -USR1 "$PID"
set +e; wait "$PID"; RC=$?; set -e
[[ $RC -eq 0 ]] || { cat "$WORK/sig.out" >&2; fail "SIGUSR1: exit $RC, expected 0"; }
grep -q "signal 10 after" "$WORK/sig.out" || { cat "$WORK/sig.out" >&2; fail "no signal stop reported"; }
ls "$WORK/signal/ckpt/"ckpt-*.json >/dev/null || fail "no checkpoint after SIGUSR1"

# SIGUSR1 during start-up (handler installed, libtorch and the data still loading): stops before
# the first step with a checkpoint at step 0, exit 0.
job startsig 100000
"$BIN" train --config "$WORK/startsig.toml" >"$WORK/startsig.out" 2>&1 &
PID=$!
for _ in $(seq 1 200); do  # SigCgt bit 9 = SIGUSR1 caught
  CGT=$(awk '/^SigCgt/ {print $2}' "/proc/$PID/status" 2>/dev/null || true)
  [[ -n "$CGT" ]] && (( (0x$CGT >> 9) & 1 )) && break
  sleep 0.02
done
kill -USR1 "$PID"
set +e; wait "$PID"; RC=$?; set -e
[[ $RC -eq 0 ]] || { cat "$WORK/startsig.out" >&2; fail "SIGUSR1 at start-up: exit $RC, expected 0"; }
grep -q "signal 10 after 0 steps" "$WORK/startsig.out" || { cat "$WORK/startsig.out" >&2; fail "no stop at step 0"; }
ls "$WORK/startsig/ckpt/"ckpt-00000000.json >/dev/null || fail "no checkpoint at step 0 after an early SIGUSR1"

# --device cuda where no GPU is usable: exit 2 with the reason (CPU machines; CI). More ranks on a
# node than GPUs: exit 2 naming the fix, unless --oversubscribe-gpus.
job dev 4
if [[ "$("$BIN" version --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gpus"])')" == 0 ]]; then
  expect_exit 2 "$BIN" train --config "$WORK/dev.toml" --device cuda
  expect_stderr "\-\-device cuda: no usable GPU on this node"
fi
expect_exit 2 env TICKSTREAM_GPUS=1 "${MPIRUN[@]}" -x TICKSTREAM_GPUS -np 2 "$BIN" train --config "$WORK/dev.toml"
expect_stderr "2 ranks on this node but 1 GPU(s) visible"
expect_stderr "\-\-oversubscribe-gpus"

# SIGKILL of one rank mid-training: mpirun exits non-zero within 30 s.
job kill 100000
"${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/kill.toml" >"$WORK/kill.out" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [[ -s "$WORK/kill/metrics.jsonl" ]] && break; sleep 0.2; done
VICTIM=$(pgrep -P "$PID" -f "tickstream train" | tail -1)
[[ -n "$VICTIM" ]] || fail "no rank process found"
START=$(date +%s)
kill -KILL "$VICTIM"
set +e; wait "$PID"; RC=$?; set -e
ELAPSED=$(( $(date +%s) - START ))
[[ $RC -ne 0 ]] || fail "mpirun exited 0 after a rank was killed"
[[ $ELAPSED -le 30 ]] || fail "mpirun took ${ELAPSED}s to end after a rank was killed"

# A rank that stops responding (SIGSTOP) is named and the job ends within the timeout.
job hang 100000
"${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/hang.toml" --set dist.timeout_s=3 >"$WORK/hang.out" 2>&1 &
PID=$!
for _ in $(seq 1 300); do [[ -s "$WORK/hang/metrics.jsonl" ]] && break; sleep 0.2; done
STOPPED=$(pgrep -P "$PID" -f "tickstream train" | tail -1)
START=$(date +%s)
kill -STOP "$STOPPED"
set +e; wait "$PID"; RC2=$?; set -e
HANG_S=$(( $(date +%s) - START ))
kill -KILL "$STOPPED" 2>/dev/null || true
[[ $RC2 -ne 0 ]] || fail "mpirun exited 0 with a stopped rank"
[[ $HANG_S -le 20 ]] || fail "a stopped rank held the job for ${HANG_S}s (timeout 3 s)"
grep -q "did not complete within 3 s" "$WORK/hang.out" || { cat "$WORK/hang.out" >&2; fail "timeout not reported"; }
echo "train_cli: ok (SIGKILL -> exit $RC in ${ELAPSED}s; SIGSTOP -> exit $RC2 in ${HANG_S}s)"
