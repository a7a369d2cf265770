#!/usr/bin/env bash
# Single-node runner: launch/run.sh CONFIG [SUBCOMMAND] [ARGS...] starts `mpirun -np N tickstream
# SUBCOMMAND --config CONFIG ARGS...` with one rank per GPU (none: one rank per core), binding
# and environment set (docs/operations.md, "One node").
#   TICKSTREAM_GPUS   GPU count to use (default: counted with nvidia-smi; 0 = CPU ranks)
#   TICKSTREAM_RANKS  rank count (default: the GPU count, or the core count without GPUs)
#   TICKSTREAM_BIN    the tickstream binary (default: build/release/tickstream)
#   TICKSTREAM_DRY_RUN=1  print the command instead of running it
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { echo "usage: launch/run.sh CONFIG [train|features|predict|...] [ARGS...]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
CONFIG="$1"; shift
[[ -f "$CONFIG" ]] || { echo "launch/run.sh: config $CONFIG does not exist" >&2; exit 2; }
SUB="${1:-train}"; [[ $# -ge 1 ]] && shift
BIN="${TICKSTREAM_BIN:-$ROOT/build/release/tickstream}"

count_gpus() {
  if [[ -n "${TICKSTREAM_GPUS:-}" ]]; then echo "$TICKSTREAM_GPUS"; return; fi
  if [[ -n "${CUDA_VISIBLE_DEVICES+x}" ]]; then
    [[ -z "$CUDA_VISIBLE_DEVICES" ]] && { echo 0; return; }
    awk -F, '{print NF}' <<<"$CUDA_VISIBLE_DEVICES"; return
  fi
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true; return; fi
  echo 0
}
GPUS="$(count_gpus)"
[[ "$GPUS" =~ ^[0-9]+$ ]] || { echo "launch/run.sh: TICKSTREAM_GPUS must be a count, got '$GPUS'" >&2; exit 2; }
CORES="$(nproc)"
if [[ "$GPUS" -gt 0 ]]; then
  RANKS="${TICKSTREAM_RANKS:-$GPUS}"
  # One rank per GPU; each rank's device is its local rank mod the visible GPUs (the program's
  # placement) and its threads are the cores / ranks. Horovod's and NCCL's advice: no binding.
  BIND=(--bind-to none --map-by slot)
  [[ "$RANKS" -gt "$CORES" ]] && BIND+=(--oversubscribe)
else
  RANKS="${TICKSTREAM_RANKS:-$CORES}"
  BIND=(--bind-to core --map-by core)
  [[ "$RANKS" -gt "$CORES" ]] && BIND=(--bind-to none --oversubscribe)
fi
export TICKSTREAM_GPUS="$GPUS"

# Pass NCCL_*, TICKSTREAM_*, CUDA_VISIBLE_DEVICES and the OpenMP/OpenBLAS thread settings through.
ENVS=()
while IFS='=' read -r name _; do
  case "$name" in NCCL_*|TICKSTREAM_*|CUDA_VISIBLE_DEVICES|OMP_NUM_THREADS|OPENBLAS_NUM_THREADS) ENVS+=(-x "$name");; esac
done < <(env)
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The commands that read a job config get it; ingest takes its inputs and store as arguments.
WITH_CONFIG=(--config "$CONFIG"); [[ "$SUB" == ingest ]] && WITH_CONFIG=()
CMD=(mpirun -np "$RANKS" "${BIND[@]}" "${ENVS[@]}" "$BIN" "$SUB" "${WITH_CONFIG[@]}" "$@")
echo "launch/run.sh: $RANKS ranks ($GPUS GPUs, $CORES cores): ${CMD[*]}" >&2
[[ "${TICKSTREAM_DRY_RUN:-0}" == 1 ]] && { printf '%q ' "${CMD[@]}"; echo; exit 0; }
exec "${CMD[@]}"
