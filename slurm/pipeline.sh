#!/usr/bin/env bash
# Submits the whole job to Slurm: prepare (ingest + features) -> train -> predict, each waiting
# for the previous one to succeed (--dependency=afterok; a failure cancels the rest).
# Run `slurm/pipeline.sh --help` for the arguments; slurm/README.md explains the jobs.
set -euo pipefail
TS_NAME=pipeline
TICKSTREAM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TICKSTREAM_ROOT
source "$TICKSTREAM_ROOT/slurm/lib.sh"

usage() {
  cat <<EOF
usage: slurm/pipeline.sh [options] CONFIG INPUT ASOF OUT

Submits three Slurm jobs from the current directory (relative paths in CONFIG are relative to it,
as for tickstream itself) and prints their ids on stdout: "PREPARE TRAIN PREDICT".
  CONFIG   job config (TOML): [data] store, [train] checkpoint_dir, ...
  INPUT    CSV files (a directory or file) to ingest into [data] store; '-': the store exists
  ASOF     prediction date YYYY-MM-DD, or 'last' (the store's last bar)
  OUT      predictions: FILE.csv, FILE.h5 or postgresql://...

options:
  --gpus-per-node N     N > 0: one rank per GPU (--ntasks-per-node=N --gpus-per-task=1);
                        default \$TICKSTREAM_GPUS_PER_NODE or 0 (CPU ranks)
  --ntasks-per-node N   CPU ranks per node (default: the CPUs of a node, from sinfo)
  --cpus-per-task N     CPUs per rank (sbatch --cpus-per-task)
  --nodes N             nodes for every job (default 1)
  --partition P         sbatch --partition
  --account A           sbatch --account
  --time T              train's time limit (sbatch --time, e.g. 04:00:00)
  --signal-before S     seconds before train's time limit that SIGUSR1 asks for a checkpoint
                        and a requeue (default 300)
  --log-dir DIR         job logs DIR/<job name>-<job id>.out (default slurm-logs)
  --set KEY=VALUE       config override for every step (repeatable; no spaces)
  --sbatch-arg ARG      extra sbatch argument for all three jobs (repeatable)
  --resume              [train] checkpoint_dir may hold checkpoints: training continues from them
                        (without it the pipeline refuses such a directory)
  --dry-run             print the sbatch commands instead of submitting
Environment: TICKSTREAM_BIN (default build/release/tickstream), TICKSTREAM_LAUNCHER (auto|srun|mpirun).
EOF
}

GPUS="${TICKSTREAM_GPUS_PER_NODE:-0}" NTASKS="" CPUS="" NODES=1 TIME="" SIGNAL_S=300
LOG_DIR=slurm-logs RESUME=0 DRY_RUN=0 PARTITION=""
COMMON=() SET_LIST=()
need() { (($# >= 2)) || ts_die "option $1 needs a value (see --help)"; }
posint() { [[ "$2" =~ ^[0-9]+$ ]] || ts_die "$1 $2: expected a non-negative integer"; }
ARGS=()
while (($# > 0)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --gpus-per-node) need "$@"; posint "$1" "$2"; GPUS="$2"; shift 2 ;;
    --ntasks-per-node) need "$@"; posint "$1" "$2"; NTASKS="$2"; shift 2 ;;
    --cpus-per-task) need "$@"; posint "$1" "$2"; CPUS="$2"; shift 2 ;;
    --nodes) need "$@"; posint "$1" "$2"; NODES="$2"; shift 2 ;;
    --partition) need "$@"; PARTITION="$2"; COMMON+=(--partition="$2"); shift 2 ;;
    --account) need "$@"; COMMON+=(--account="$2"); shift 2 ;;
    --time) need "$@"; TIME="$2"; shift 2 ;;
    --signal-before) need "$@"; posint "$1" "$2"; SIGNAL_S="$2"; shift 2 ;;
    --log-dir) need "$@"; LOG_DIR="$2"; shift 2 ;;
    --set) need "$@"; [[ "$2" == *.*=* && "$2" != *[[:space:]]* ]] || ts_die "--set $2: expected section.key=value without spaces"
           SET_LIST+=("$2"); shift 2 ;;
    --sbatch-arg) need "$@"; COMMON+=("$2"); shift 2 ;;
    --resume) RESUME=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -) ARGS+=("$1"); shift ;;
    -*) ts_die "unknown option $1 (see --help)" ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
((${#ARGS[@]} == 4)) || { usage >&2; ts_die "expected CONFIG INPUT ASOF OUT, got ${#ARGS[@]} arguments"; }
CONFIG="${ARGS[0]}" INPUT="${ARGS[1]}" ASOF="${ARGS[2]}" OUT="${ARGS[3]}"
absolute() { [[ "$1" == /* ]] && echo "$1" || echo "$PWD/$1"; }

# Check what can be checked before anything waits in the queue.
command -v sbatch >/dev/null || ts_die "sbatch not found: is this a Slurm login node?" 1
[[ -f "$CONFIG" ]] || ts_die "config $CONFIG not found"
CONFIG="$(absolute "$CONFIG")"
if [[ "$INPUT" != - ]]; then
  [[ -e "$INPUT" ]] || ts_die "input $INPUT not found"
  INPUT="$(absolute "$INPUT")"
fi
[[ "$ASOF" == last || "$ASOF" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2} ]] || ts_die "ASOF $ASOF: expected YYYY-MM-DD or 'last'"
[[ "$OUT" == postgres*://* ]] || OUT="$(absolute "$OUT")"
TICKSTREAM_SET="${SET_LIST[*]:-}"
export TICKSTREAM_SET
ts_setup
TICKSTREAM_BIN="$(absolute "$BIN")"
export TICKSTREAM_BIN
STORE="$(ts_config_get "$CONFIG" data store)"
CKPT_DIR="$(ts_config_get "$CONFIG" train checkpoint_dir)"
[[ -n "$STORE" ]] || ts_die "$CONFIG has no [data] store"
[[ -n "$CKPT_DIR" ]] || ts_die "$CONFIG has no [train] checkpoint_dir"
[[ "$INPUT" != - || -f "$STORE" ]] || ts_die "INPUT '-' but no store at $STORE"
if ((RESUME == 0)) && ts_has_checkpoint "$CKPT_DIR"; then
  ts_die "[train] checkpoint_dir $CKPT_DIR already holds checkpoints: pass --resume to continue from them, or give this run its own directory"
fi

# Resources: one rank per GPU, or CPU ranks sized to a node's cores.
RES=(--nodes="$NODES")
if ((GPUS > 0)); then
  RES+=(--ntasks-per-node="$GPUS" --gpus-per-task=1)
else
  if [[ -z "$NTASKS" ]]; then
    NTASKS="$(sinfo -h -o %c ${PARTITION:+--partition="$PARTITION"} 2>/dev/null | grep -o '^[0-9]*' | sort -n | head -n 1 || true)"
    [[ "$NTASKS" =~ ^[1-9][0-9]*$ ]] || NTASKS=1
  fi
  RES+=(--ntasks-per-node="$NTASKS")
fi
[[ -n "$CPUS" ]] && RES+=(--cpus-per-task="$CPUS")
mkdir -p "$LOG_DIR"
LOG_DIR="$(absolute "$LOG_DIR")"
COMMON+=(--parsable --chdir="$PWD" --output="$LOG_DIR/%x-%j.out" --kill-on-invalid-dep=yes "${RES[@]}")
TRAIN_EXTRA=(--signal=B:USR1@"$SIGNAL_S")
[[ -n "$TIME" ]] && TRAIN_EXTRA+=(--time="$TIME")

# submit NAME ARGS...: sbatch, printing the job id (with --dry-run: the command, and NAME as the id).
submit() {
  local name="$1" id; shift
  if ((DRY_RUN)); then echo "sbatch $*" >&2; echo "$name"; return; fi
  id="$(sbatch "$@")" || ts_die "sbatch failed: sbatch $*" 1
  echo "${id%%;*}"
}
PREP="$(submit PREPARE "${COMMON[@]}" "$TICKSTREAM_ROOT/slurm/prepare.sbatch" "$CONFIG" "$INPUT")"
TRAIN="$(submit TRAIN "${COMMON[@]}" "${TRAIN_EXTRA[@]}" --dependency=afterok:"$PREP" "$TICKSTREAM_ROOT/slurm/train.sbatch" "$CONFIG")"
PRED="$(submit PREDICT "${COMMON[@]}" --dependency=afterok:"$TRAIN" "$TICKSTREAM_ROOT/slurm/predict.sbatch" "$CONFIG" "$ASOF" "$OUT")"
{
  echo "$TS_NAME: prepare $PREP, train $TRAIN (after $PREP), predict $PRED (after $TRAIN); ${RES[*]}"
  echo "$TS_NAME: logs $LOG_DIR/tickstream-{prepare,train,predict}-<id>.out; predictions -> $OUT"
  echo "$TS_NAME: follow with: squeue -j $PREP,$TRAIN,$PRED"
} >&2
echo "$PREP $TRAIN $PRED"
