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

# A host that cannot be reached any more (a cut link, a dead machine) leaves mpirun waiting
# forever for its daemon there after the job aborted. Once mpirun reports an abort or a lost rank,
# it has TICKSTREAM_ABORT_GRACE_S (default 5) to finish; then it is killed, and its daemons on
# the hosts it can reach end their ranks. mpirun's stderr passes through unchanged.
GRACE="${TICKSTREAM_ABORT_GRACE_S:-5}"
# ranks_on HOST: the ranks --map-by slot puts on HOST (hostfile order, slots filled in turn).
ranks_on() {
  awk -v want="$1" -v total="$RANKS" '!/^[[:space:]]*(#|$)/ {
      n = 1; for (i = 2; i <= NF; ++i) if ($i ~ /^slots=/) { split($i, a, "="); n = a[2] }
      for (k = 0; k < n && r < total; ++k) { if ($1 == want) out = out (out == "" ? "" : ",") r; ++r }
    } END { print (out == "" ? "none" : out) }' "$HOSTFILE"
}
FIFO="$(mktemp -u "${TMPDIR:-/tmp}/tickstream-multinode.XXXXXX")"
mkfifo "$FIFO"
"${CMD[@]}" 2>"$FIFO" &
MPIRUN_PID=$!
trap 'kill -TERM "$MPIRUN_PID" 2>/dev/null' INT TERM
KILLER="" LOST=""
# The loop ends at EOF or once mpirun is gone: a daemon on an unreachable host still holds the
# pipe open.
exec 3<"$FIFO"
while :; do
  line=""
  if IFS= read -r -t 1 line <&3; then
    printf '%s\n' "$line" >&2
  elif [[ $? -le 128 ]]; then
    break  # EOF
  else
    [[ -n "$line" ]] && printf '%s\n' "$line" >&2  # a partial line when the timeout hit
    kill -0 "$MPIRUN_PID" 2>/dev/null || break
    continue
  fi
  if [[ "$line" =~ Remote\ daemon:.*\ on\ node\ ([^[:space:]]+) || "$line" =~ [Cc]onnection\ to\ ([^[:space:]]+)\ closed ]]; then
    lost="${BASH_REMATCH[1]}"
    [[ " $LOST " == *" $lost "* ]] || echo "launch/multinode.sh: lost host $lost (its ranks: $(ranks_on "$lost"))" >&2
    LOST+=" $lost"
  fi
  if [[ -z "$KILLER" && "$line" =~ MPI_ABORT\ was\ invoked|lost\ communication|exited\ on\ signal|non-zero\ status ]]; then
    ( sleep "$GRACE"; kill -KILL "$MPIRUN_PID" 2>/dev/null && echo "launch/multinode.sh: mpirun did not end $GRACE s after the job failed (an unreachable host?): killed" >&2 ) &
    KILLER=$!
  fi
done
exec 3<&-
set +e
wait "$MPIRUN_PID"
RC=$?
set -e
[[ -z "$KILLER" ]] || kill "$KILLER" 2>/dev/null || true
rm -f "$FIFO"
exit "$RC"
