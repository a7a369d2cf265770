#!/usr/bin/env bash
# Stops the Slurm that start.sh started (every slurmd, slurmctld, munged: the processes
# named by the pid files under $TICKSTREAM_SLURM_DIR, default /tmp/tickstream-slurm) and removes
# that directory. Jobs still running are killed with the daemons. Idempotent.
set -euo pipefail

DIR="${TICKSTREAM_SLURM_DIR:-/tmp/tickstream-slurm}"
TIMEOUT_S="${TICKSTREAM_SLURM_STOP_TIMEOUT_S:-30}"

say() { echo "local-cluster: $*" >&2; }

# stop_pid NAME PIDFILE: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name="$1" file="$2" pid i
  [[ -s "$file" ]] || return 0
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < TIMEOUT_S * 5; ++i)); do
    kill -0 "$pid" 2>/dev/null || { say "$name stopped"; return 0; }
    sleep 0.2
  done
  say "$name (pid $pid) ignored SIGTERM for ${TIMEOUT_S} s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

if [[ -d "$DIR" ]]; then
  i=0
  if [[ -f "$DIR/etc/slurm.conf" ]] && command -v scancel >/dev/null; then
    # End the jobs first so their steps (slurmstepd) do not outlive slurmd.
    export SLURM_CONF="$DIR/etc/slurm.conf"
    if timeout 10 scancel --quiet --full --user="$(id -un)" 2>/dev/null; then
      for ((i = 0; i < TIMEOUT_S; ++i)); do
        [[ -z "$(timeout 10 squeue -h -o %i 2>/dev/null)" ]] && break
        sleep 1
      done
    fi
  fi
  for f in "$DIR"/run/slurmd*.pid; do stop_pid "slurmd ($(basename "$f" .pid))" "$f"; done
  stop_pid slurmctld "$DIR/run/slurmctld.pid"
  stop_pid munged "$DIR/munge/munged.pid"
  rm -rf "$DIR"
fi
say "stopped ($DIR removed)"
