#!/usr/bin/env bash
# The test-host harness itself: `up` makes hosts with their names and addresses that reach each
# other over TCP and nothing else; running `up` twice is safe; `down` leaves nothing behind (no
# namespace, bridge, veth or /etc/hosts line). Exit 77 where namespaces cannot be made.
set -euo pipefail
CLUSTER="$(cd "$(dirname "$0")" && pwd)/cluster.sh"
fail() { echo "FAIL: $*" >&2; "$CLUSTER" down; exit 1; }
set +e; "$CLUSTER" up 2; rc=$?; set -e
[[ $rc -eq 0 ]] || exit "$rc"
"$CLUSTER" up 2 || fail "a second up failed"
trap '"$CLUSTER" down' EXIT
[[ "$("$CLUSTER" hosts | tr '\n' ' ')" == "198.18.0.11 node1 198.18.0.12 node2 " ]] || fail "hosts: $("$CLUSTER" hosts)"
[[ "$(getent hosts node2 | awk '{print $1}')" == 198.18.0.12 ]] || fail "node2 does not resolve to 198.18.0.12"
[[ "$("$CLUSTER" exec node1 hostname)" == node1 ]] || fail "node1's host name is not node1"
# TCP from node1 to node2, through the bridge.
"$CLUSTER" exec node2 python3 -c '
import socket; s = socket.socket(); s.bind(("198.18.0.12", 47001)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(b"from node2")' &
sleep 0.5
got=$("$CLUSTER" exec node1 python3 -c '
import socket; c = socket.create_connection(("node2", 47001), timeout=5); print(c.recv(64).decode())')
wait
[[ "$got" == "from node2" ]] || fail "node1 could not talk to node2 (got '$got')"
# No route out of the test network.
[[ "$(ip -n ts-node1 route | grep -c default || true)" == 0 ]] || fail "node1 has a default route"
outside=$(ip -4 -o addr show scope global | awk '$2 != "tsbr0" {split($4, a, "/"); print a[1]; exit}')
if [[ -n "$outside" ]]; then  # this machine's own address on another network
  "$CLUSTER" exec node1 python3 -c '
import socket, sys
try: socket.create_connection((sys.argv[1], 22), timeout=1)
except OSError as e: sys.exit(0 if "unreachable" in str(e) else 1)
sys.exit(1)' "$outside" || fail "node1 reached $outside, outside the test network"
fi
trap - EXIT
"$CLUSTER" down
[[ -z "$(ip netns list | grep '^ts-' || true)" ]] || fail "namespaces left: $(ip netns list)"
! ip link show tsbr0 >/dev/null 2>&1 || fail "the bridge was left"
! grep -q "tickstream test hosts" /etc/hosts || fail "/etc/hosts still names the test hosts"
echo "cluster_selftest: OK"
