#!/usr/bin/env bash
# Starts a single-node Slurm on this machine for the tests: munged, slurmctld and slurmd on
# localhost, all state, logs and sockets under $TICKSTREAM_SLURM_DIR (default /tmp/tickstream-slurm),
# configured by slurm.conf.in. Idempotent: daemons already running are kept. Waits until `sinfo`
# shows the node idle, then prints the config path on stdout; use it as
#   export SLURM_CONF="$(slurm/local-cluster/start.sh)"
# Needs root and the Debian packages slurm-wlm and munge (launch/install-deps.sh installs them);
# installs nothing itself. Exit 3 when a prerequisite is missing, 1 when a daemon fails to start.
# stop.sh stops the daemons and removes the directory.
# Several hosts (tests/hosts): TICKSTREAM_SLURM_HOSTS="node1 node2" gives one node per host
# (NodeAddr from `getent hosts`), each slurmd started on its host by
# TICKSTREAM_SLURM_HOST_EXEC (a command prefix, e.g. "tests/hosts/cluster.sh exec"), and
# slurmctld on TICKSTREAM_SLURM_CTLD_ADDR (this machine's address on their network), each slurmd's
# spool in TICKSTREAM_SLURM_HOST_SPOOL, a path local to every host (Slurm's PMIx plugin does not
# expand %n in SlurmdSpoolDir, so the hosts cannot share a file system path there).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${TICKSTREAM_SLURM_DIR:-/tmp/tickstream-slurm}"
PORT="${TICKSTREAM_SLURM_PORT:-6817}"  # slurmctld; slurmd listens on PORT+1
TIMEOUT_S="${TICKSTREAM_SLURM_START_TIMEOUT_S:-60}"
CONF="$DIR/etc/slurm.conf"
HOSTS="${TICKSTREAM_SLURM_HOSTS:-}"
MUNGE_SOCKET="$DIR/munge/munge.socket.2"

say() { echo "local-cluster: $*" >&2; }
die() { say "error: $*"; exit "${2:-1}"; }

# pid_alive FILE: the process whose pid FILE holds is running.
pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

show_log() { [[ -f "$1" ]] && { say "last lines of $1:"; tail -n 20 "$1" >&2; }; return 0; }

check_prerequisites() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (slurmd starts job steps as the submitting user)" 3
  local b
  for b in munged mungekey munge slurmctld slurmd sinfo sbatch scontrol; do
    command -v "$b" >/dev/null || die "$b not found (apt-get install slurm-wlm munge, or launch/install-deps.sh)" 3
  done
  id munge >/dev/null 2>&1 || die "no user 'munge' (the munge package creates it)" 3
}

start_munge() {
  if pid_alive "$DIR/munge/munged.pid"; then say "munged already running"; return; fi
  mkdir -p "$DIR/munge"
  chown munge:munge "$DIR/munge"
  chmod 0755 "$DIR/munge"  # clients connect to the socket in it; munged refuses group/other-writable
  if [[ ! -s "$DIR/munge/munge.key" ]]; then
    runuser -u munge -- mungekey --create --keyfile="$DIR/munge/munge.key"
  fi
  runuser -u munge -- munged --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" \
    --log-file="$DIR/munge/munged.log" --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munged.seed" \
    || { show_log "$DIR/munge/munged.log"; die "munged failed to start"; }
  local i
  for ((i = 0; i < 50; ++i)); do
    munge -n -S "$MUNGE_SOCKET" 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1 && { say "munged started"; return; }
    sleep 0.2
  done
  show_log "$DIR/munge/munged.log"
  die "munged does not answer on $MUNGE_SOCKET"
}

write_conf() {
  mkdir -p "$DIR/etc" "$DIR/run" "$DIR/spool" "$DIR/state" "$DIR/log"
  local cpus
  cpus="$(nproc)"
  sed -e "s|@DIR@|$DIR|g" -e "s|@CPUS@|$cpus|g" -e "s|@PORT@|$PORT|g" -e "s|@SLURMD_PORT@|$((PORT + 1))|g" \
    "$HERE/slurm.conf.in" >"$CONF.tmp"
  [[ -z "$HOSTS" ]] || hosts_conf "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

# hosts_conf FILE: one node per test host (1 CPU each: they share this machine), slurmd's pid
# file and log per node, its spool on the host, slurmctld at its address on the hosts' network.
hosts_conf() {
  local h addr nodes=""
  sed -i -e "s|^SlurmctldHost=.*|SlurmctldHost=$(hostname -s)(${TICKSTREAM_SLURM_CTLD_ADDR:?})|" \
    -e "s|^SlurmdPidFile=.*|SlurmdPidFile=$DIR/run/slurmd-%n.pid|" -e "s|^SlurmdSpoolDir=.*|SlurmdSpoolDir=${TICKSTREAM_SLURM_HOST_SPOOL:?}|" \
    -e "s|^SlurmdLogFile=.*|SlurmdLogFile=$DIR/log/slurmd-%n.log|" -e '/^NodeName=/d' -e '/^PartitionName=/d' "$1"
  for h in $HOSTS; do
    addr="$(getent hosts "$h" | awk '{print $1; exit}')"
    [[ -n "$addr" ]] || die "host $h does not resolve"
    echo "NodeName=$h NodeAddr=$addr CPUs=1 State=UNKNOWN" >> "$1"
    nodes+="${nodes:+,}$h"
  done
  echo "PartitionName=debug Nodes=$nodes Default=YES MaxTime=INFINITE State=UP" >> "$1"
  # PMIx's per-step client directories: on the host too (by default /tmp/spmix_appdir_<uid>_<step>,
  # one path for every host of a shared /tmp).
  echo "PMIxCliTmpDirBase=$TICKSTREAM_SLURM_HOST_SPOOL" > "$(dirname "$1")/mpi.conf"
}

start_daemon() {  # NAME ARGS...
  local name="$1"; shift
  if pid_alive "$DIR/run/$name.pid"; then say "$name already running"; return; fi
  "$name" -f "$CONF" "$@" || { show_log "$DIR/log/$name.log"; die "$name failed to start"; }
  say "$name started"
}

wait_idle() {  # wait_idle NODE
  local node="$1" deadline=$((SECONDS + TIMEOUT_S)) state=""
  while ((SECONDS < deadline)); do
    state="$(SLURM_CONF="$CONF" sinfo -h -n "$node" -o %T 2>/dev/null || true)"
    case "$state" in
      idle|mixed|allocated|completing) say "node $node is $state (SLURM_CONF=$CONF)"; return ;;
      down*|drain*|fail*)  # a node left down by an earlier run: bring it back
        SLURM_CONF="$CONF" scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
  done
  show_log "$DIR/log/slurmctld.log"
  for f in "$DIR"/log/slurmd*.log; do show_log "$f"; done
  die "node $node not idle after ${TIMEOUT_S} s (sinfo says '${state:-nothing}'); logs under $DIR/log"
}

check_prerequisites
# Keep an existing config while any daemon runs on it; otherwise (re)write it from the template.
if pid_alive "$DIR/run/slurmctld.pid" || pid_alive "$DIR/run/slurmd.pid"; then
  [[ -f "$CONF" ]] || die "daemons run without $CONF: run slurm/local-cluster/stop.sh first"
else
  write_conf
fi
start_munge
start_daemon slurmctld
if [[ -z "$HOSTS" ]]; then
  start_daemon slurmd -N localhost
  wait_idle localhost
else
  for h in $HOSTS; do
    if pid_alive "$DIR/run/slurmd-$h.pid"; then say "slurmd on $h already running"; continue; fi
    $TICKSTREAM_SLURM_HOST_EXEC "$h" slurmd -f "$CONF" -N "$h" || { show_log "$DIR/log/slurmd-$h.log"; die "slurmd on $h failed to start"; }
    say "slurmd started on $h"
  done
  for h in $HOSTS; do wait_idle "$h"; done
fi
echo "$CONF"
