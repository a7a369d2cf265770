#!/usr/bin/env bash
# A full disk (issue 20, item 4): every writer run on a small tmpfs with too little space left exits 2
# with "no space left on device" naming the file and the free space, leaves no file behind (not even
# a temporary one) and leaves the previous state whole: ingest (1 and 2 ranks: the sec2 and MPI-IO
# drivers), features rewriting a store, a training checkpoint, predictions as CSV and as HDF5.
# Needs root (mount); exits 77 (skipped) where a tmpfs cannot be mounted.
source "$(dirname "$0")/common.sh"
FULL="$WORK/full"
mkdir -p "$FULL"
if ! mount -t tmpfs -o size=16m tmpfs "$FULL" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs at $FULL (needs root and mount)"
  exit 77
fi
trap 'umount -l "$FULL" 2>/dev/null || true' EXIT

# fill_to FREE_KIB: a filler file takes all of the tmpfs but FREE_KIB.
fill_to() {
  rm -f "$FULL/filler"
  local avail; avail=$(df --output=avail -k "$FULL" | tail -1)
  ((avail > $1)) && fallocate -l "$(( (avail - $1) * 1024 ))" "$FULL/filler"
  return 0
}

# full_fails WHAT CMD...: CMD exits 2 naming the full disk; only the files listed in $KEEP remain.
full_fails() {
  local what="$1"; shift
  expect_exit 2 "$@"
  expect_stderr "no space left on device"
  grep -q "free of" "$WORK/stderr" || fail "$what: the message does not say how much space is left"
  ! grep -q "internal error\|Segmentation\|core dumped" "$WORK/stderr" || fail "$what: not a clean input error"
  local left; left=$(cd "$FULL" && ls -A | grep -v -x -F -f <(printf '%s\n' filler $KEEP) || true)
  [[ -z "$left" ]] || fail "$what: left behind on the full disk: $left"
  echo "disk_full: $what: exit 2, $(grep -o 'no space left on device ([^)]*)' "$WORK/stderr" | head -1)"
}

"$BIN" synth --tickers 40 --days 330 --seed 5 --signal 0.2 --csv-dir "$WORK/csv" >/dev/null
"$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5" >/dev/null
STORE_KIB=$(du -k "$WORK/s.h5" | cut -f1)

# Ingest: the store does not fit (a quarter of its size free), at 1 and 2 ranks.
KEEP=""
fill_to $((STORE_KIB / 4))
full_fails "ingest, 1 rank" "$BIN" ingest --input "$WORK/csv" --store "$FULL/s.h5"
full_fails "ingest, 2 ranks" "${MPIRUN[@]}" -np 2 "$BIN" ingest --input "$WORK/csv" --store "$FULL/s.h5"

# Features rewrite the store through a copy: neither the copy (half the store free) nor the
# features (a bit more than the store free: the copy fits, the features do not) fit; the store stays
# as it was.
small_job ""
sed "s|^store = .*|store = \"$FULL/s.h5\"|" "$WORK/job.toml" > "$WORK/job-full.toml"
KEEP="s.h5"
for free in $((STORE_KIB / 2)) $((STORE_KIB * 5 / 4)); do
  rm -f "$FULL/filler"
  cp "$WORK/s.h5" "$FULL/s.h5"
  fill_to "$free"
  full_fails "features, $free KiB free" "$BIN" features --config "$WORK/job-full.toml"
  expect_exit 0 "$BIN" inspect --verify "$FULL/s.h5"
  expect_exit 0 "$BIN" inspect --json "$FULL/s.h5"
  ! grep -q '"features/values"' "$WORK/stdout" || fail "features: the failed run left /features in the store"
done

# A checkpoint that does not fit (the features are computed where there is room).
small_job "[train]
batch_size = 32
max_steps = 2
epochs = 1
checkpoint_every = 1
checkpoint_dir = \"$FULL/ckpt\""
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
rm -rf "$FULL/s.h5" "$FULL/filler"
KEEP="ckpt"
mkdir -p "$FULL/ckpt"
fill_to 8
full_fails "checkpoint" "$BIN" train --config "$WORK/job.toml"
[[ -z "$(ls -A "$FULL/ckpt")" ]] || fail "checkpoint: left in the checkpoint directory: $(ls -A "$FULL/ckpt")"

# Predictions as CSV and as HDF5, written where there is no room.
rm -rf "$FULL/ckpt" "$FULL/filler"
expect_exit 0 "$BIN" train --config "$WORK/job.toml" --set train.checkpoint_dir="$WORK/ckpt"
LAST=$("$BIN" inspect "$WORK/s.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['last_time'])")
KEEP=""
# (8 KiB: an HDF5 file is created, its write fails; the CSV, 3 KiB, would fit)
for case in "0 p.csv" "0 p.h5" "8 p.h5"; do
  read -r free out <<<"$case"
  fill_to "$free"
  full_fails "predict --out $out, $free KiB free" "$BIN" predict --config "$WORK/job.toml" --checkpoint "$WORK/ckpt" \
    --asof "$LAST" --out "$FULL/$out"
done
echo "disk_full: OK"
