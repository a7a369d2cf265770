#!/usr/bin/env sh
# Open MPI's launch agent for the test hosts (plm_rsh_agent): called as `agent.sh HOST CMD...` the
# way ssh would be, runs CMD on HOST (its network namespace, its host name) through cluster.sh.
# Open MPI may pass options before the host (as to ssh): they are skipped.
while [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
host="$1"; shift
exec "$(dirname "$0")/cluster.sh" exec "$host" sh -c "$*"
