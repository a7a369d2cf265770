#!/usr/bin/env bash
# What crossing a network costs on this machine: the pipeline (ingest, features, train, predict)
# with one rank on each of 2 and 3 test hosts (network namespaces, TCP over a bridge:
# tests/hosts/cluster.sh) against the same ranks on this one host, side by side in one run, wall
# time per command as the user sees it (process start, MPI start-up included) and training
# samples/s. Verifies that both runs end with the same model. Prints JSON (stdout).
# Usage: bench/hosts.sh [WORK]   (root; exit 77 where namespaces cannot be made)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-/tmp/tickstream-bench-hosts}"
BIN="${TICKSTREAM_BIN:-$ROOT/build/release/tickstream}"
CLUSTER="$ROOT/tests/hosts/cluster.sh"
TICKERS=200 DAYS=600 STEPS=150
rm -rf "$WORK" && mkdir -p "$WORK"
set +e; "$CLUSTER" up 3 >&2; rc=$?; set -e
[[ $rc -eq 0 ]] || exit "$rc"
trap '"$CLUSTER" down >&2' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash
export OMPI_MCA_plm_rsh_agent="$ROOT/tests/hosts/agent.sh" TICKSTREAM_IFNAME=198.18.0.0/24 OMPI_MCA_btl=tcp,self
export TICKSTREAM_BIN="$BIN" TICKSTREAM_THREADS=1 TICKSTREAM_GPUS=0
# The test hosts share this machine's cores: 3 ranks busy-polling on 2 cores would measure the
# contention (ingest 4.4x slower at 3 hosts without this), not the network. mpirun sets it itself
# for the oversubscribed ranks of one host.
export OMPI_MCA_mpi_yield_when_idle=1
"$BIN" synth --tickers $TICKERS --days $DAYS --seed 3 --signal 0.13 --csv-dir "$WORK/csv" >/dev/null

job() {
  mkdir -p "$1"
  cat > "$1/job.toml" <<TOML
[data]
store = "$1/s.h5"
train_start = 2010-01-04
train_end = 2011-06-30
valid_start = 2011-07-01
valid_end = 2011-12-30
[model]
kind = "gpt"
d_model = 32
n_layers = 2
n_heads = 4
seq_len = 32
[train]
batch_size = 64
max_steps = $STEPS
eval_every = $STEPS
checkpoint_dir = "$1/ckpt"
metrics = "$1/metrics.jsonl"
TOML
}
now() { date +%s.%N; }
# run DIR NAME LAUNCH...: one pipeline; prints "name": {...} seconds per command and samples/s.
run() {
  local d="$1" name="$2"; shift 2
  job "$d"
  local t0 t1 t2 t3 t4
  t0=$(now); "$@" ingest --input "$WORK/csv" --store "$d/s.h5" >"$d/ingest.out" 2>"$d/ingest.err"
  t1=$(now); "$@" features >"$d/features.out" 2>"$d/features.err"
  t2=$(now); "$@" train >"$d/train.out" 2>"$d/train.err"
  t3=$(now); "$@" predict --checkpoint "$d/ckpt" --asof 2011-12-30 --out "$d/p.csv" >"$d/predict.out" 2>"$d/predict.err"
  t4=$(now)
  python3 - "$d" "$name" "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY'
import json, re, sys
d, name, *t = sys.argv[1:]
t = [float(x) for x in t]
train = open(f"{d}/train.out").read()
sps = float(re.search(r"train: max_steps after \d+ steps \(.*?, ([\d.]+) samples/s", train).group(1))
fp = re.search(r"parameters fnv1a (\w+)", train).group(1)
print(json.dumps({name: {"ingest_s": t[1] - t[0], "features_s": t[2] - t[1], "train_s": t[3] - t[2],
                         "predict_s": t[4] - t[3], "train_samples_per_s": sps, "fingerprint": fp}}))
PY
}
{
  for n in 2 3; do
    printf 'node%s slots=1\n' $(seq 1 $n) > "$WORK/hostfile$n"
    run "$WORK/local$n" "one_host_${n}_ranks" env TICKSTREAM_RANKS=$n "$ROOT/launch/run.sh" "$WORK/local$n/job.toml"
    run "$WORK/hosts$n" "${n}_hosts" env TICKSTREAM_RANKS=$n "$ROOT/launch/multinode.sh" "$WORK/hostfile$n" "$WORK/hosts$n/job.toml"
  done
} > "$WORK/runs.jsonl"
python3 - "$WORK/runs.jsonl" "$TICKERS" "$DAYS" "$STEPS" <<'PY'
import json, platform, os, sys
runs = {}
for line in open(sys.argv[1]):
    runs.update(json.loads(line))
out = {"benchmark": "hosts", "machine": {"host": platform.node(), "cpus": os.cpu_count()},
       "universe": {"tickers": int(sys.argv[2]), "days": int(sys.argv[3]), "train_steps": int(sys.argv[4])},
       "method": "test hosts = network namespaces on this machine joined by a bridge (TCP, btl tcp,self); "
                 "one rank per host, 1 intra-op thread per rank on both sides, mpi_yield_when_idle=1 (the "
                 "hosts share this machine's cores); wall time per command from the launcher's start to its end", "runs": runs}
for n in (2, 3):
    a, b = runs[f"one_host_{n}_ranks"], runs[f"{n}_hosts"]
    assert a["fingerprint"] == b["fingerprint"], f"{n}: another model across hosts"
    out[f"train_samples_per_s_ratio_{n}"] = b["train_samples_per_s"] / a["train_samples_per_s"]
    for k in ("ingest_s", "features_s", "train_s", "predict_s"):
        out[f"{k}_ratio_{n}"] = b[k] / a[k]
out["verified"] = True
print(json.dumps(out, indent=2))
PY
