#!/usr/bin/env bash
# Open MPI across test hosts (tests/hosts/cluster.sh): launch/multinode.sh with a hostfile of 2 and
# 3 network-namespace hosts, one rank per host over the TCP transport, runs ingest, features,
# train and predict; every output equals the same rank count's run on this one host (raw store,
# features, labels and statistics, the model fingerprint after K steps, the predictions), and the
# ranks really ran on distinct hosts. Exit 77 where namespaces cannot be made.
# Usage: tests/hosts/multinode.sh BIN WORK
source "$(dirname "$0")/../e2e/common.sh"
source "$(dirname "$0")/common.sh"
hosts_up 3

"$BIN" synth --tickers 40 --days 330 --seed 9 --signal 0.2 --csv-dir "$WORK/csv" >/dev/null

# job DIR: DIR/job.toml for DIR/s.h5.
job() {
  small_job "[train]
batch_size = 32
max_steps = 6
eval_every = 6
checkpoint_dir = \"$1/ckpt\"
metrics = \"$1/metrics.jsonl\"
tensorboard_dir = \"$1/tb\"" "$1"
}

# pipeline DIR LAUNCH...: ingest, features, train, predict in DIR, each command run as
# LAUNCH SUBCOMMAND ARGS, LAUNCH adding DIR/job.toml as the config (as launch/*.sh do).
pipeline() {
  local d="$1"; shift
  expect_exit 0 "$@" ingest --input "$WORK/csv" --store "$d/s.h5"
  expect_exit 0 "$@" features
  expect_exit 0 "$@" train
  grep "parameters fnv1a" "$WORK/stdout" > "$d/fingerprint" || fail "$d: train printed no fingerprint"
  expect_exit 0 "$@" predict --checkpoint "$d/ckpt" --asof 2010-12-31 --out "$d/p.csv"
}

for n in 2 3; do
  HOSTFILE=$(hostfile $n)
  # The ranks run on n distinct hosts, each with its own address.
  mpirun -np $n --hostfile "$HOSTFILE" --mca oob_tcp_if_include 198.18.0.0/24 \
    sh -c 'echo "$(hostname) $(ip -4 -br addr show eth0 | awk "{print \$3}")"' | sort > "$WORK/where$n"
  [[ $(sort -u "$WORK/where$n" | wc -l) -eq $n ]] || { cat "$WORK/where$n"; fail "$n ranks did not land on $n hosts"; }
  grep -q "node$n 198.18.0.1$n/24" "$WORK/where$n" || { cat "$WORK/where$n"; fail "node$n is not at its address"; }
  job "$WORK/local$n" && job "$WORK/hosts$n.run"
  pipeline "$WORK/local$n" env TICKSTREAM_RANKS=$n TICKSTREAM_GPUS=0 "$ROOT/launch/run.sh" "$WORK/local$n/job.toml"
  pipeline "$WORK/hosts$n.run" env TICKSTREAM_RANKS=$n "$ROOT/launch/multinode.sh" "$HOSTFILE" "$WORK/hosts$n.run/job.toml"
  # Every dataset's values (attributes name the job's own paths and config hash).
  for ds in $(h5ls -r "$WORK/local$n/s.h5" | awk '$2 == "Dataset" {print $1}'); do
    h5diff -q --exclude-attribute "$ds" "$WORK/local$n/s.h5" "$WORK/hosts$n.run/s.h5" "$ds" "$ds" ||
      fail "$n hosts: $ds differs from $n ranks on one host"
  done
  cmp "$WORK/local$n/fingerprint" "$WORK/hosts$n.run/fingerprint" || fail "$n hosts: another model after 6 steps"
  # The same predictions, bit for bit (model_id hashes the job's config, which names its paths).
  cmp <(cut -d, -f1-6 "$WORK/local$n/p.csv") <(cut -d, -f1-6 "$WORK/hosts$n.run/p.csv") || fail "$n hosts: other predictions"
  echo "multinode: $n hosts = $n ranks on one host ($(cat "$WORK/hosts$n.run/fingerprint"))"
done
echo "multinode: OK"
