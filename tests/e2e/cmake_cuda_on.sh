#!/usr/bin/env bash
# Configure-time CUDA choice: TICKSTREAM_CUDA=ON on a machine without nvcc fails configure with a
# message naming what is missing (no quiet CPU build); AUTO there builds for the CPU and says why.
# "Without nvcc" is made here by hiding the toolkit: PATH without nvcc, no CUDA_HOME/CUDACXX, and
# TICKSTREAM_CUDA_ROOT pointing at an empty folder. $1 = the source tree, $2 = scratch directory.
set -euo pipefail
SRC="$1"
WORK="$2"
rm -rf "$WORK"
mkdir -p "$WORK/no-cuda"
fail() { echo "FAIL: $*" >&2; exit 1; }

clean_path=""
IFS=: read -ra parts <<<"$PATH"
for d in "${parts[@]}"; do
  [[ -x "$d/nvcc" ]] || clean_path="${clean_path:+$clean_path:}$d"
done

configure() {  # configure BUILD_DIR CUDA_MODE
  env -u CUDA_HOME -u CUDACXX -u CUDA_PATH PATH="$clean_path" \
    cmake -S "$SRC" -B "$1" -DTICKSTREAM_CUDA="$2" -DTICKSTREAM_TESTS=OFF \
    -DTICKSTREAM_CUDA_ROOT="$WORK/no-cuda" >"$1.log" 2>&1
}

if configure "$WORK/on" ON; then
  fail "configure with TICKSTREAM_CUDA=ON succeeded without nvcc"
fi
grep -q "TICKSTREAM_CUDA=ON but nvcc was not found" "$WORK/on.log" ||
  { cat "$WORK/on.log" >&2; fail "configure did not name the missing nvcc"; }
[[ ! -f "$WORK/on/Makefile" && ! -f "$WORK/on/build.ninja" ]] || fail "a failed configure left a build system"
echo "cmake_cuda_on: ON without nvcc fails: $(grep -o 'TICKSTREAM_CUDA=ON but [^.]*' "$WORK/on.log")"
