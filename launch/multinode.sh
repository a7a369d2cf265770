#!/usr/bin/env bash
# Multi-node runner without Slurm: launch/multinode.sh HOSTFILE CONFIG [SUBCOMMAND] [ARGS...]
# starts one rank per slot of an Open MPI hostfile ("node1 slots=8" = 8 GPUs on node1) with the
# settings Horovod and NCCL document for multi-node jobs (docs/operations.md, "Several nodes"):
# no binding (each rank picks its GPU and threads itself), ranks mapped by slot, the data
# interface pinned for both Open MPI's TCP transport and NCCL's sockets, environment exported.
#   TICKSTREAM_IFNAME  network interface for MPI and NCCL (e.g. ib0, eth0), or a subnet in CIDR
#                      form for MPI alone (e.g. 10.0.0.0/16); default: let them pick
#   TICKSTREAM_RANKS   rank count (default: the hostfile's slots)
#   TICKSTREAM_BIN     the binary, at the same path on every node (default: build/release/tickstream)
#   TICKSTREAM_DRY_RUN=1  print the command instead of running it
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 2 ]] || { echo "usage: launch/multinode.sh HOSTFILE CONFIG [SUBCOMMAND] [ARGS...]" >&2; exit 2; }
HOSTFILE="$1" CONFIG="$2"; shift 2
[[ -f "$HOSTFILE" ]] || { echo "launch/multinode.sh: hostfile $HOSTFILE does not exist" >&2; exit 2; }
[[ -f "$CONFIG" ]] || { echo "launch/multinode.sh: config $CONFIG does not exist" >&2; exit 2; }
SUB="${1:-train}"; [[ $# -ge 1 ]] && shift
BIN="${TICKSTREAM_BIN:-$ROOT/build/release/tickstream}"

SLOTS=$(awk '!/^[[:space:]]*(#|$)/ { n = 1; for (i = 2; i <= NF; ++i) if ($i ~ /^slots=/) { split($i, a, "="); n = a[2] } s += n } END { print s + 0 }' "$HOSTFILE")
RANKS="${TICKSTREAM_RANKS:-$SLOTS}"
[[ "$RANKS" -ge 1 ]] || { echo "launch/multinode.sh: $HOSTFILE lists no slots" >&2; exit 2; }

NET=()
if [[ -n "${TICKSTREAM_IFNAME:-}" ]]; then
  # An interface name serves Open MPI and NCCL; a subnet (198.18.0.0/24) only Open MPI, whose
  # interface names may differ from host to host.
  [[ "$TICKSTREAM_IFNAME" == */* ]] || export NCCL_SOCKET_IFNAME="$TICKSTREAM_IFNAME"
  NET=(--mca btl_tcp_if_include "$TICKSTREAM_IFNAME" --mca oob_tcp_if_include "$TICKSTREAM_IFNAME")
fi
ENVS=(-x PATH -x LD_LIBRARY_PATH)
while IFS='=' read -r name _; do
  case "$name" in NCCL_*|TICKSTREAM_*|CUDA_VISIBLE_DEVICES|OMP_NUM_THREADS|OPENBLAS_NUM_THREADS) ENVS+=(-x "$name");; esac
done < <(env)
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# The commands that read a job config get it; ingest takes its inputs and store as arguments.
WITH_CONFIG=(--config "$CONFIG"); [[ "$SUB" == ingest ]] && WITH_CONFIG=()
CMD=(mpirun -np "$RANKS" --hostfile "$HOSTFILE" --bind-to none --map-by slot "${NET[@]}" "${ENVS[@]}"
     "$BIN" "$SUB" "${WITH_CONFIG[@]}" "$@")
echo "launch/multinode.sh: $RANKS ranks over $(grep -cvE '^[[:space:]]*(#|$)' "$HOSTFILE") hosts: ${CMD[*]}" >&2
[[ "${TICKSTREAM_DRY_RUN:-0}" == 1 ]] && { printf '%q ' "${CMD[@]}"; echo; exit 0; }
exec "${CMD[@]}"
