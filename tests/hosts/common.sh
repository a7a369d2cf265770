# Shared by the tests/hosts scripts (after tests/e2e/common.sh): hosts_up N makes N test hosts
# (tests/hosts/cluster.sh), exits 77 where it cannot, tears them down on exit, and points Open MPI
# and launch/multinode.sh at them.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="$ROOT/tests/hosts/cluster.sh"

hosts_up() {
  set +e; "$CLUSTER" up "$1"; local rc=$?; set -e
  [[ $rc -eq 0 ]] || exit "$rc"
  trap '"$CLUSTER" down' EXIT
  # What multinode.sh needs to reach the test hosts: the launch agent, their subnet, TCP only.
  export OMPI_MCA_plm_rsh_agent="$ROOT/tests/hosts/agent.sh" TICKSTREAM_IFNAME=198.18.0.0/24 OMPI_MCA_btl=tcp,self
  export PMIX_MCA_gds=hash TICKSTREAM_BIN="$BIN"
  # One intra-op thread per rank: a host of its own would give its one rank every core, and
  # another thread count sums in another order (a model would differ in the last bits).
  export TICKSTREAM_THREADS=1
}

# hostfile N: $WORK/hostfile<N> with node1..nodeN, one slot each.
hostfile() {
  printf 'node%s slots=1\n' $(seq 1 "$1") > "$WORK/hostfile$1"
  echo "$WORK/hostfile$1"
}
