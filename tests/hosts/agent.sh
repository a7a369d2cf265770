#!/usr/bin/env sh
# Open MPI's launch agent for the test hosts (plm_rsh_agent): called as `agent.sh HOST CMD...` the
# way ssh would be, runs CMD on HOST (its network namespace, its host name) through cluster.sh.
# Like an ssh client it stays on this side: when the remote command dies it says so, naming the
# host, as ssh does ("Connection to HOST closed by remote host."). Options before the host (as
# Open MPI may pass to ssh) are skipped.
while [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
host="$1"; shift
"$(dirname "$0")/cluster.sh" exec "$host" sh -c "$*"
rc=$?
[ "$rc" -eq 0 ] || echo "Connection to $host closed by remote host (its command ended with status $rc)." >&2
exit "$rc"
