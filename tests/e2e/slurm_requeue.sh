#!/usr/bin/env bash
# Preemption on a real single-node Slurm (slurm/local-cluster, started here unless running): the
# pipeline's train job gets SIGUSR1 mid-run (scancel --signal=USR1 --batch, what Slurm sends
# before the time limit with --signal=B:USR1@T); train.sbatch forwards it, the ranks checkpoint,
# the job requeues itself, the next run resumes from that checkpoint (step > 0) and finishes all
# steps, the predict job (afterok) then runs; the requeued training ends with the same parameters
# as an uninterrupted run. Exit 77 (SKIP) where Slurm cannot run (not root, no slurm-wlm/munge).
source "$(dirname "$0")/common.sh"
source "$TICKSTREAM_SOURCE_DIR/slurm/local-cluster/testing.sh"
slurm_up
cd "$WORK"
export TICKSTREAM_BIN="$BIN"
STEPS=300

slurm_write_config "$WORK/job.toml" "$STEPS" 32 2 32 64
"$BIN" synth --tickers 40 --days 320 --seed 7 --signal 0.13 --store "$WORK/store.h5" >/dev/null
START=$SECONDS
read -r PREP TRAIN PRED < <("$TICKSTREAM_SOURCE_DIR/slurm/pipeline.sh" --ntasks-per-node 2 --log-dir "$WORK/logs" \
  "$WORK/job.toml" - last "$WORK/preds.csv")
[[ -n "$PRED" ]] || fail "pipeline.sh printed no job ids"
slurm_track "$PREP" "$TRAIN" "$PRED"
LOG="$WORK/logs/tickstream-train-$TRAIN.out"

# Signal once training is under way (past its first evaluation and checkpoint at step 50).
slurm_wait_step "$TRAIN" "$LOG" 100 "$STEPS"
scancel --signal=USR1 --batch "$TRAIN"
echo "sent SIGUSR1 to train job $TRAIN at $((SECONDS - START)) s"
slurm_wait_jobs 400 "$PREP" "$TRAIN" "$PRED"
echo "pipeline with one requeue: $((SECONDS - START)) s from submission to predictions"
slurm_expect_completed "$PREP" "$TRAIN" "$PRED"

RESTARTS="$(slurm_job_field "$TRAIN" Restarts)"
[[ "$RESTARTS" == 1 ]] || fail "train job $TRAIN restarted $RESTARTS times, expected 1"
grep -q "got SIGUSR1" "$LOG" || fail "train.sbatch did not see SIGUSR1"
STOPPED=$(sed -n "s/^train: signal 10 after \([0-9]*\) steps.*/\1/p" "$LOG")
[[ -n "$STOPPED" ]] || fail "no 'train: signal 10 after N steps' in $LOG"
((STOPPED >= 100 && STOPPED < STEPS)) || fail "training stopped at step $STOPPED, expected within [100, $STEPS)"
grep -q "requeueing job $TRAIN" "$LOG" || fail "train.sbatch did not requeue job $TRAIN"
grep -q "job $TRAIN (restart 1)" "$LOG" || fail "no second run (restart 1) of job $TRAIN in $LOG"
grep -q -- "--resume (checkpoints in" "$LOG" || fail "the requeued run did not pass --resume"
RESUMED=$(sed -n "s/.*info resume: .*ckpt-[0-9]*\.pt (step \([0-9]*\),.*/\1/p" "$LOG")
[[ "$RESUMED" == "$STOPPED" ]] || fail "resumed at step '${RESUMED}', expected the checkpoint at step $STOPPED"
grep -q "^train: max_steps after $STEPS steps ($((STEPS - STOPPED)) this run" "$LOG" \
  || fail "the requeued run did not finish the remaining $((STEPS - STOPPED)) of $STEPS steps"
echo "train job $TRAIN: stopped at step $STOPPED on SIGUSR1, requeued, resumed at step $RESUMED, finished $STEPS steps"
slurm_check_predictions "$WORK/preds.csv" "$WORK/store.h5"

# Resuming is exact: an uninterrupted run on the same 2 ranks ends with the same parameters.
GOT=$(sed -n "s/^train: parameters fnv1a //p" "$LOG" | tail -n 1)
"${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/job.toml" --set train.checkpoint_dir="$WORK/ref-ckpt" \
  --set train.metrics="$WORK/ref-metrics.jsonl" --set train.tensorboard_dir="$WORK/ref-tb" >"$WORK/ref.txt" 2>"$WORK/ref.err" || { cat "$WORK/ref.err" >&2; fail "reference training failed"; }
WANT=$(sed -n "s/^train: parameters fnv1a //p" "$WORK/ref.txt")
[[ -n "$GOT" && "$GOT" == "$WANT" ]] || fail "requeued training ended with parameters $GOT, an uninterrupted run with $WANT"
echo "parameters after the requeue equal an uninterrupted run's ($GOT)"
echo "slurm requeue: OK"
