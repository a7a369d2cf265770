#!/usr/bin/env bash
# Slurm across test hosts (tests/hosts/cluster.sh): one slurmctld on this machine and a slurmd on
# each of 2 hosts (NodeAddr = the host's address; slurm/local-cluster/start.sh with
# TICKSTREAM_SLURM_HOSTS). slurm/pipeline.sh runs prepare -> train -> predict on 2 nodes, one rank
# each, launched by srun --mpi=pmix over TCP; the train job is preempted (SIGUSR1) mid-run,
# requeues itself, resumes on the nodes it gets and finishes; every ticker is scored or skipped.
# Exit 77 where namespaces or Slurm cannot run here.
source "$(dirname "$0")/../e2e/common.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export TICKSTREAM_SOURCE_DIR="$ROOT"
CLUSTER="$ROOT/tests/hosts/cluster.sh"
source "$ROOT/slurm/local-cluster/testing.sh"
set +e; "$CLUSTER" up 2; rc=$?; set -e
[[ $rc -eq 0 ]] || exit "$rc"
cleanup() {
  local rc=$?
  set +e
  ( exit "$rc" ); ( slurm_cleanup_ )  # jobs, logs on failure, daemons
  "$CLUSTER" down
  exit "$rc"
}
trap cleanup EXIT
# A Slurm of its own (directory, port, munge), apart from the single-node one of tests/e2e.
export TICKSTREAM_SLURM_DIR=/tmp/tickstream-slurm-hosts TICKSTREAM_SLURM_PORT=6827
export TICKSTREAM_SLURM_HOSTS="node1 node2" TICKSTREAM_SLURM_HOST_EXEC="$CLUSTER exec" TICKSTREAM_SLURM_CTLD_ADDR=198.18.0.1
export TICKSTREAM_SLURM_HOST_SPOOL=/tmp/tickstream-host-local/slurmd
"$ROOT/slurm/local-cluster/stop.sh" 2>/dev/null  # what an interrupted run may have left
slurm_up
trap cleanup EXIT  # slurm_up set its own
# The jobs' MPI between hosts: TCP on the test network.
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=198.18.0.0/24 TICKSTREAM_BIN="$BIN" TICKSTREAM_THREADS=1
cd "$WORK"
STEPS=300
slurm_write_config "$WORK/job.toml" "$STEPS" 32 2 32 64
"$BIN" synth --tickers 40 --days 320 --seed 7 --signal 0.13 --store "$WORK/store.h5" >/dev/null
START=$SECONDS
read -r PREP TRAIN PRED < <("$ROOT/slurm/pipeline.sh" --nodes 2 --ntasks-per-node 1 --log-dir "$WORK/logs" \
  "$WORK/job.toml" - last "$WORK/preds.csv")
[[ -n "$PRED" ]] || fail "pipeline.sh printed no job ids"
slurm_track "$PREP" "$TRAIN" "$PRED"
LOG="$WORK/logs/tickstream-train-$TRAIN.out"
slurm_wait_step "$TRAIN" "$LOG" 100 "$STEPS"
NODES_FIRST="$(slurm_job_field "$TRAIN" NodeList)"
scancel --signal=USR1 --batch "$TRAIN"
slurm_wait_jobs 400 "$PREP" "$TRAIN" "$PRED"
echo "slurm hosts: pipeline with one requeue on 2 nodes: $((SECONDS - START)) s"
slurm_expect_completed "$PREP" "$TRAIN" "$PRED"
[[ "$NODES_FIRST" == "node[1-2]" ]] || fail "train ran on '$NODES_FIRST', expected node[1-2]"
grep -q "launcher srun --mpi=pmix" "$LOG" || fail "train did not launch with srun --mpi=pmix"
grep -q "train: 2 ranks" "$LOG" || fail "train did not run on 2 ranks"
[[ "$(slurm_job_field "$TRAIN" Restarts)" == 1 ]] || fail "train job $TRAIN was not requeued once"
STOPPED=$(sed -n "s/^train: signal 10 after \([0-9]*\) steps.*/\1/p" "$LOG")
RESUMED=$(sed -n "s/.*info resume: .*ckpt-[0-9]*\.pt (step \([0-9]*\),.*/\1/p" "$LOG")
[[ -n "$STOPPED" && "$RESUMED" == "$STOPPED" ]] || fail "stopped at '$STOPPED', resumed at '$RESUMED'"
grep -q "^train: max_steps after $STEPS steps" "$LOG" || fail "the requeued run did not finish $STEPS steps"
slurm_check_predictions "$WORK/preds.csv" "$WORK/store.h5"
echo "slurm hosts: train on $NODES_FIRST stopped at step $STOPPED, requeued, resumed, finished $STEPS steps"
echo "slurm hosts: OK"
