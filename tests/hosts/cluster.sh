#!/usr/bin/env bash
# Test hosts of the project's own on this machine: N network namespaces (node1..nodeN) joined by a
# bridge, with addresses from the 198.18.0.0/24 test range, sharing the file system. No sshd: Open
# MPI starts its daemons on them through tests/hosts/agent.sh (plm_rsh_agent), which enters the
# host's namespace and gives it its own host name. Traffic stays between the hosts and the bridge
# address 198.18.0.1 of this machine (no route anywhere else).
#   tests/hosts/cluster.sh up N        make node1..nodeN (tears down an earlier cluster first)
#   tests/hosts/cluster.sh down        kill everything running on them, remove them
#   tests/hosts/cluster.sh exec HOST CMD...   run CMD on HOST (as the agent does)
#   tests/hosts/cluster.sh hosts       print "ADDRESS NAME" per host
#   tests/hosts/cluster.sh cut HOST | heal HOST   take HOST's link down / up
#   tests/hosts/cluster.sh kill HOST   SIGKILL every process on HOST
# Names go into /etc/hosts between marker lines (removed by down). Every host sees a local directory
# of its own at /tmp/tickstream-host-local (slurmd's spool). Needs root, iproute2, util-linux.
# Exit 77 when network namespaces cannot be made here.
set -euo pipefail
BRIDGE=tsbr0
NET=198.18.0
PREFIX=ts-
STATE=/tmp/tickstream-hosts       # STATE/HOST: a host's local directory
LOCAL=/tmp/tickstream-host-local  # where every host sees its own
MARK_BEGIN="# tickstream test hosts: begin"
MARK_END="# tickstream test hosts: end"

say() { echo "cluster: $*" >&2; }
address() { echo "$NET.$((10 + ${1#node}))"; }  # node3 -> 198.18.0.13
hosts() { ip netns list 2>/dev/null | awk -v p="$PREFIX" 'index($1, p) == 1 { print substr($1, length(p) + 1) }' | sort -V; }

remove_names() {
  [[ -f /etc/hosts ]] || return 0
  sed "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" /etc/hosts > /etc/hosts.tickstream.tmp
  cat /etc/hosts.tickstream.tmp > /etc/hosts  # in place: /etc/hosts may be a bind mount
  rm -f /etc/hosts.tickstream.tmp
}

down() {
  local h
  for h in $(hosts); do
    ip netns pids "$PREFIX$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$PREFIX$h" 2>/dev/null || true
    ip link del "tsv${h#node}" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$STATE"
  remove_names
}

up() {
  local n="$1" k
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || { say "up N: N from 1 to 99"; exit 2; }
  [[ $(id -u) -eq 0 ]] || { say "needs root (network namespaces)"; exit 77; }
  down
  ip link add "$BRIDGE" type bridge 2>/dev/null || { say "cannot make a bridge here"; exit 77; }
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  { echo "$MARK_BEGIN"; for ((k = 1; k <= n; ++k)); do echo "$(address node$k) node$k"; done; echo "$MARK_END"; } >> /etc/hosts
  for ((k = 1; k <= n; ++k)); do
    ip netns add "${PREFIX}node$k" || { down; say "cannot make network namespaces here"; exit 77; }
    ip link add "tsv$k" type veth peer name eth0 netns "${PREFIX}node$k"
    ip link set "tsv$k" master "$BRIDGE" up
    ip -n "${PREFIX}node$k" addr add "$(address node$k)/24" dev eth0
    ip -n "${PREFIX}node$k" link set lo up
    ip -n "${PREFIX}node$k" link set eth0 up
  done
  say "$n hosts up: $(hosts | tr '\n' ' ')(bridge $BRIDGE $NET.1/24)"
}

on() {  # on HOST CMD...: CMD in HOST's network namespace with HOST as its host name
  local h="$1"; shift
  ip netns list | grep -qw "$PREFIX$h" || { say "no host $h"; exit 2; }
  # nsenter, not `ip netns exec`: that one remounts /sys for the namespace, without this
  # machine's cgroup file systems (slurmd needs them).
  # Each host has a local directory of its own at the same path (LOCAL), as separate machines
  # have local disks: a private mount namespace binds STATE/HOST there.
  mkdir -p "$STATE/$h" "$LOCAL"
  exec nsenter --net="/run/netns/$PREFIX$h" unshare --uts --mount sh -c \
    'mount --bind "$1" "$2" && hostname "$0" && shift 2 && exec "$@"' "$h" "$STATE/$h" "$LOCAL" "$@"
}

case "${1:-}" in
  up) up "${2:?up N}" ;;
  down) down; say "down" ;;
  exec) shift; on "$@" ;;
  hosts) for h in $(hosts); do echo "$(address "$h") $h"; done ;;
  cut) ip link set "tsv${2#node}" down ;;
  heal) ip link set "tsv${2#node}" up ;;
  kill) ip netns pids "$PREFIX${2:?kill HOST}" | xargs -r kill -9 ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
