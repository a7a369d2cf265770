#!/usr/bin/env bash
# The GPU host run, in one command: tests/gpu/host-check.sh OUT_DIR
#
# On a GPU machine with no network (CUDA, PyTorch's libtorch via torch.utils.cmake_prefix_path,
# NCCL from its nvidia-nccl-cu13 wheel, cmake, ninja; no MPI, HDF5 or Kokkos): unpacks the Debian
# packages of tests/gpu/debs (tests/gpu/fetch-debs.sh, run beforehand where apt works) into a
# prefix, configures and builds only what it needs with every core, then runs the GPU tests
# (window gather vs CPU, one-rank NCCL collectives), a 50-step training run and a prediction run
# on the GPU, and `bench loader|train|predict`. Writes OUT_DIR/results.json (one entry per step:
# status, seconds, figures) and OUT_DIR/logs/. Without a GPU it stops after the build with exit 77
# (the dry path CI runs). Exit 1 when a step fails; the results say which.
#
# TICKSTREAM_HOST_CHECK_BUILD: the build folder (default build/gpu-host; CI passes its release
# build so that the dry path costs no second build). TICKSTREAM_HOST_CHECK_PYTHON: the python
# whose torch to build against (default: python3 on PATH, the host's PyTorch).
# TICKSTREAM_HOST_CHECK_ONLY: names of the steps to run (results.json names them), e.g. a rerun of
# the benchmarks alone; every other step is left out (build and version always run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$(realpath -m "${1:?usage: tests/gpu/host-check.sh OUT_DIR}")"
BUILD="${TICKSTREAM_HOST_CHECK_BUILD:-$ROOT/build/gpu-host}"
PY="${TICKSTREAM_HOST_CHECK_PYTHON:-$(command -v python3)}"
JOBS="$(nproc)"
mkdir -p "$OUT/logs"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
T0=$(date +%s)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash PMIX_MCA_pcompress_base_silence_warning=1
# One node, no ssh (the GPU host): mpirun still checks that its remote agent exists.
command -v ssh >/dev/null || command -v rsh >/dev/null || export OMPI_MCA_plm_rsh_agent=/bin/false

say() { echo "host-check: $*" | tee -a "$OUT/logs/host-check.log"; }
# record NAME STATUS MILLISECONDS [JSON_FIGURES]
record() {
  "$PY" -c 'import json,sys; print(json.dumps({"step": sys.argv[1], "status": sys.argv[2],
    "seconds": int(sys.argv[3]) / 1000, "figures": json.loads(sys.argv[4])}))' "$1" "$2" "$3" "${4:-null}" >> "$RESULTS"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
finish() {  # finish EXIT_CODE: results.json from the step lines, then exit
  "$PY" - "$RESULTS" "$OUT/results.json" "$1" "$(( $(date +%s) - T0 ))" <<'PY'
import json, platform, subprocess, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
try:
    gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout.strip().splitlines()
except OSError:
    gpus = []
json.dump({"machine": {"host": platform.node(), "gpus": gpus}, "exit_code": int(sys.argv[3]),
           "seconds": int(sys.argv[4]), "steps": steps}, open(sys.argv[2], "w"), indent=2)
PY
  say "done in $(( $(date +%s) - T0 )) s, exit $1; results in $OUT/results.json"
  exit "$1"
}
# step NAME LOG CMD...: runs CMD (at most STEP_TIMEOUT s) with its output in logs/LOG.log and
# records it. A failed step is recorded and the run goes on (the GPU time is short: every later
# figure is worth having); the exit code is then 1. fatal_step: a failure ends the run.
STEP_TIMEOUT="${TICKSTREAM_HOST_CHECK_STEP_TIMEOUT:-300}"
ONLY="${TICKSTREAM_HOST_CHECK_ONLY:-}"  # step names to run (a rerun of some); build and version always run
FAILED=0
step() {
  local name="$1" log="$OUT/logs/$2.log"; shift 2
  if [[ -n "$ONLY" && " $ONLY " != *" $name "* && $name != build && $name != version ]]; then
    LAST_OK=1
    return 0
  fi
  local s; s=$(now_ms)
  say "$name ..."
  local limit=(timeout -k 10 "$STEP_TIMEOUT")
  declare -F "$1" >/dev/null && limit=()  # a function here: it puts its own commands under the timeout
  if "${limit[@]}" "$@" >"$log" 2>&1; then
    record "$name" ok $(( $(now_ms) - s ))
  else
    record "$name" failed $(( $(now_ms) - s ))
    tail -20 "$log" >&2
    say "$name failed (log: $log)"
    FAILED=1
    LAST_OK=0
    return 0
  fi
  LAST_OK=1
}
fatal_step() {
  step "$@"
  [[ $LAST_OK == 1 ]] || finish 1
}

# Debian's MPI, HDF5, Kokkos and header libraries: the system's where they are installed (the
# dev VM, CI), else unpacked from tests/gpu/debs into a prefix.
CMAKE_EXTRA=()
unpack_debs() {
  local p="$OUT/prefix"
  [[ -d "$ROOT/tests/gpu/debs" ]] || { say "no MPI/HDF5 here and no tests/gpu/debs: run tests/gpu/fetch-debs.sh where apt works and carry tests/gpu/debs"; finish 1; }
  rm -rf "$p" && mkdir -p "$p"
  rm -f "$BUILD/CMakeCache.txt"  # library paths found in an earlier prefix: found again in this one
  for d in "$ROOT"/tests/gpu/debs/*.deb; do dpkg -x "$d" "$p"; done
  # Absolute symlinks point at the host's /usr: into the prefix. Alternatives are postinst work.
  find "$p" -type l -lname '/*' | while read -r l; do ln -sfn "$p$(readlink "$l")" "$l"; done
  # A -dev link whose library is the base system's (zlib: not carried) points at the host's copy
  # (else CMake would pick the static archive next to it and fail to link a shared library).
  find "$p" -xtype l -name 'lib*.so' | while read -r l; do
    local host
    host=$(ldconfig -p | awk -v n="$(basename "$l")" 'index($1, n ".") == 1 && $1 ~ /\.so\.[0-9]+$/ {print $NF; exit}')
    if [[ -n "$host" ]]; then ln -sfn "$host" "$l"; else rm -f "$l"; fi
  done
  for tool in mpicc mpicxx mpirun mpiexec; do ln -sfn "$tool.openmpi" "$p/usr/bin/$tool"; done
  ln -sfn h5pcc.openmpi "$p/usr/bin/h5pcc"
  sed -i "s#^prefix=\"/usr\"#prefix=\"$p/usr\"#" "$p/usr/bin/h5pcc.openmpi"
  local lib="$p/usr/lib/x86_64-linux-gnu"
  export OPAL_PREFIX="$p/usr" PATH="$p/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$lib:$lib/openmpi/lib:$lib/hdf5/openmpi:${LD_LIBRARY_PATH:-}"
  CMAKE_EXTRA=(-DCMAKE_PREFIX_PATH="$p/usr" -DMPI_C_COMPILER="$p/usr/bin/mpicc"
               -DHDF5_C_COMPILER_EXECUTABLE="$p/usr/bin/h5pcc" -DTICKSTREAM_KOKKOS_INCLUDE="$p/usr/include/trilinos"
               -DKokkos_DIR="$lib/cmake/Kokkos")
}
deps() {
  # TICKSTREAM_HOST_CHECK_DEBS=1: unpack tests/gpu/debs even where the system has them (to try
  # the GPU host's path on a dev machine).
  if [[ "${TICKSTREAM_HOST_CHECK_DEBS:-0}" != 1 ]] && command -v mpicc >/dev/null &&
     [[ -e /usr/include/hdf5/openmpi/hdf5.h ]]; then
    say "MPI and HDF5 from the system"
  else
    unpack_debs
    say "MPI, HDF5, Kokkos from tests/gpu/debs ($(ls "$ROOT"/tests/gpu/debs/*.deb | wc -l) packages)"
  fi
}

configure_and_build() {
  local gen=()
  command -v ninja >/dev/null && [[ ! -f "$BUILD/Makefile" ]] && gen=(-G Ninja)
  timeout -k 10 "$STEP_TIMEOUT" cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DTICKSTREAM_CUDA=ON \
    -DTICKSTREAM_PYTHON="$PY" -DTICKSTREAM_TESTS=ON "${CMAKE_EXTRA[@]}" &&
    timeout -k 10 "$STEP_TIMEOUT" cmake --build "$BUILD" -j "$JOBS" --target tickstream tickstream_ml test_gpu_window_gather test_gpu_nccl \
      test_gpu_batch_assembler test_batch_assembler
}

deps
STEP_TIMEOUT=1200 fatal_step build build configure_and_build
BIN="$BUILD/tickstream"
version_json() { "$BIN" version --json > "$OUT/version.json"; }  # stdout only: MPI may warn on stderr
fatal_step version version version_json
GPUS=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["gpus"])' "$OUT/version.json")
if [[ "$GPUS" == 0 ]]; then
  note=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("gpu_note", ""))' "$OUT/version.json")
  record gpu skipped 0 "$("$PY" -c 'import json,sys; print(json.dumps({"reason": sys.argv[1]}))' "$note")"
  say "no GPU on this machine ($note): built; nothing to run (exit 77)"
  finish 77
fi

# GPU tests: each must pass, not skip.
gpu_test() {
  local log; log="$(mktemp)"
  timeout -k 10 "$STEP_TIMEOUT" "$1" >"$log" 2>&1 || { cat "$log"; return 1; }
  cat "$log"
  ! grep -q '\[  SKIPPED \]' "$log"
}
step gpu_window_gather gpu_window_gather gpu_test "$BUILD/tests/gpu/test_gpu_window_gather"
step gpu_batch_assembler gpu_batch_assembler gpu_test "$BUILD/tests/gpu/test_gpu_batch_assembler"
step gpu_nccl gpu_nccl gpu_test "$BUILD/tests/gpu/test_gpu_nccl"
step batch_assembler batch_assembler "$BUILD/tests/test_batch_assembler"

# A 50-step training run and a prediction run on the GPU, on a synthetic universe.
W="$OUT/work"
rm -rf "$W" && mkdir -p "$W"
sed -e "s#^store = .*#store = \"$W/s.h5\"#" -e "s#^checkpoint_dir = .*#checkpoint_dir = \"$W/ckpt\"#" \
    -e "s#^metrics = .*#metrics = \"$W/metrics.jsonl\"#" "$ROOT/configs/quickstart.toml" > "$W/job.toml"
fatal_step synth synth "$BIN" synth --tickers 500 --days 1260 --seed 1234 --signal 0.13 --store "$W/s.h5"
fatal_step features features "$BIN" features --config "$W/job.toml"
step train_gpu_auto_batch train_gpu_auto_batch "$BIN" train --config "$W/job.toml" --device cuda \
  --set train.max_steps=20 --set train.batch_size=auto --set "train.checkpoint_dir=\"$W/ckpt-auto\"" \
  --set "train.metrics=\"$W/metrics-auto.jsonl\"" --set "train.tensorboard_dir=\"$W/tb-auto\""
step train_gpu train_gpu "$BIN" train --config "$W/job.toml" --device cuda --set train.max_steps=50
# Streamed (not resident): chunks through the pinned loader at prefetch 2 and the device slots.
step train_gpu_streamed train_gpu_streamed "$BIN" train --config "$W/job.toml" --device cuda \
  --set train.max_steps=200 --set train.eval_every=100 --set loader.resident=off --set loader.prefetch=2 \
  --set loader.chunk_tickers=64 --set "train.checkpoint_dir=\"$W/ckpt-streamed\"" \
  --set "train.metrics=\"$W/metrics-streamed.jsonl\"" --set "train.tensorboard_dir=\"$W/tb-streamed\""
LAST=$("$BIN" inspect "$W/s.h5" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["last_time"])' || echo none)
step predict_gpu predict_gpu "$BIN" predict --config "$W/job.toml" --device cuda --checkpoint "$W/ckpt" \
  --asof "$LAST" --out "$W/preds.h5"

# The benchmarks on the GPU (their JSON is their figures).
# One rank: NCCL refuses two ranks on one GPU (multi-rank logic is tested on the CPU).
step bench_loader bench_loader "$BIN" bench loader --json --repeat 3 --out "$OUT/bench-loader.json"
for b in train predict; do
  step "bench_$b" "bench_$b" "$BIN" bench "$b" --json --repeat 3 --ranks-max 1 --out "$OUT/bench-$b.json"
done
cp "$W"/metrics*.jsonl "$OUT/" 2>/dev/null || true
# Prediction at the issue's scale: 100,000 tickers on one GPU (last: it builds a large store).
step bench_predict_100k bench_predict_100k "$BIN" bench predict --json --repeat 1 --ranks-max 1 --tickers 100000 \
  --days 300 --out "$OUT/bench-predict-100k.json"
finish "$FAILED"
