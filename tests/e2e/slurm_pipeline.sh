#!/usr/bin/env bash
# slurm/pipeline.sh on a real single-node Slurm (slurm/local-cluster, started here unless running):
# prepare (ingest + features) -> train -> predict as three jobs chained by afterok, 2 ranks each
# launched by srun --mpi=pmix, with configs/quickstart.toml (its relative paths land in the scratch
# directory; 40 tickers and 200 steps keep it short); every ticker is scored or skipped
# and the ranks are 1..n.
# Exit 77 (SKIP) where Slurm cannot run (not root, slurm-wlm/munge not installed).
source "$(dirname "$0")/common.sh"
source "$TICKSTREAM_SOURCE_DIR/slurm/local-cluster/testing.sh"
slurm_up
cd "$WORK"
export TICKSTREAM_BIN="$BIN"

cp "$TICKSTREAM_SOURCE_DIR/configs/quickstart.toml" "$WORK/job.toml"
mkdir -p "$WORK/runs/quickstart"
"$BIN" synth --tickers 40 --days 1260 --seed 7 --signal 0.13 --csv-dir "$WORK/csv" >/dev/null
START=$SECONDS
read -r PREP TRAIN PRED < <("$TICKSTREAM_SOURCE_DIR/slurm/pipeline.sh" --ntasks-per-node 2 --log-dir "$WORK/logs" \
  --set train.max_steps=200 --set train.epochs=100 --set train.eval_every=100 "$WORK/job.toml" "$WORK/csv" last "$WORK/preds.csv")
[[ -n "$PRED" ]] || fail "pipeline.sh printed no job ids"
slurm_track "$PREP" "$TRAIN" "$PRED"
[[ "$(slurm_job_field "$TRAIN" Dependency)" == afterok:"$PREP"* ]] || fail "train job $TRAIN does not depend on $PREP: $(slurm_job_field "$TRAIN" Dependency)"
slurm_wait_jobs 300 "$PREP" "$TRAIN" "$PRED"
echo "pipeline: $((SECONDS - START)) s from submission to predictions"
slurm_expect_completed "$PREP" "$TRAIN" "$PRED"

LOG="$WORK/logs"
grep -q "launcher srun --mpi=pmix" "$LOG/tickstream-train-$TRAIN.out" || fail "train did not launch with srun --mpi=pmix"
grep -q "^ingest: 40 files" "$LOG/tickstream-prepare-$PREP.out" || fail "prepare did not ingest the 40 CSV files"
grep -q "^train: max_steps after 200 steps" "$LOG/tickstream-train-$TRAIN.out" || fail "train did not run its 200 steps"
grep -q "train: 2 ranks" "$LOG/tickstream-train-$TRAIN.out" || fail "train did not run on 2 ranks"
LAST=$("$BIN" inspect "$WORK/runs/quickstart/store.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['last_time'][:10])")
grep -q "predict as of $LAST" "$LOG/tickstream-predict-$PRED.out" || fail "predict did not score at the store's last bar $LAST"
slurm_check_predictions "$WORK/preds.csv" "$WORK/runs/quickstart/store.h5"

# A second submission into the same checkpoint directory is refused before anything is queued.
expect_exit 2 "$TICKSTREAM_SOURCE_DIR/slurm/pipeline.sh" --log-dir "$WORK/logs" "$WORK/job.toml" "$WORK/csv" last \
  "$WORK/p2.csv"
expect_stderr "already holds checkpoints: pass --resume"
echo "slurm pipeline: OK"
