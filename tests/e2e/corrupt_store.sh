#!/usr/bin/env bash
# A damaged store is detected, never read as numbers: one byte flipped at a random offset inside a
# random chunk of /raw, /features, /labels or /stats (20 draws, seeded) makes `inspect --verify`
# exit 2 naming that dataset and chunk, and a command that reads it (train) exit 2 naming the
# dataset; the intact store verifies clean.
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3

"$BIN" synth --tickers 40 --days 330 --seed 9 --signal 0.2 --store "$WORK/s.h5" >/dev/null
small_job "[train]
batch_size = 32
max_steps = 2
checkpoint_dir = \"$WORK/ckpt\"
metrics = \"$WORK/metrics.jsonl\"
tensorboard_dir = \"$WORK/tb\""
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
expect_exit 0 "$BIN" inspect --verify "$WORK/s.h5"
grep -q "intact" "$WORK/stdout" || fail "an intact store did not verify: $(cat "$WORK/stdout")"

# Draws: "dataset origin byte_offset" for 20 random chunks of the checksummed groups.
$PY - "$WORK/s.h5" > "$WORK/draws" <<'PYEOF'
import h5py, random, sys
rng = random.Random(2026)
chunks = []
with h5py.File(sys.argv[1], "r") as f:
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.chunks and name.split("/")[0] in ("raw", "features", "labels", "stats"):
            for i in range(obj.id.get_num_chunks()):
                c = obj.id.get_chunk_info(i)
                chunks.append(("/" + name, ",".join(map(str, c.chunk_offset)), c.byte_offset, c.size))
    f.visititems(visit)
groups = sorted({c[0].split("/")[1] for c in chunks})
assert groups == ["features", "labels", "raw", "stats"], groups
for name, origin, offset, size in rng.sample(chunks, 20):
    print(name, origin, offset + rng.randrange(size))
PYEOF
# flip OFFSET: $WORK/bad.h5 = the store with the byte at OFFSET inverted in 4 of its bits.
flip() {
  cp "$WORK/s.h5" "$WORK/bad.h5"
  $PY -c "import sys; f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x5a]))" \
    "$WORK/bad.h5" "$1"
}

n=0
while read -r name origin offset; do
  flip "$offset"
  expect_exit 2 "$BIN" inspect --verify "$WORK/bad.h5"
  expect_stderr "$name chunk at \[$origin\]"
  n=$((n + 1))
done < "$WORK/draws"
[[ $n -eq 20 ]] || fail "only $n draws"
# A command reading a damaged /features chunk stops with the dataset named (exit 2).
read -r name origin offset < <(grep "^/features/values " "$WORK/draws" | head -1 || true)
if [[ -n "${offset:-}" ]]; then
  flip "$offset"
  expect_exit 2 "$BIN" train --config "$WORK/job.toml" --set "data.store=\"$WORK/bad.h5\""
  expect_stderr "/features/values: the chunk at \[$(echo "$origin" | sed 's/,/, /g')\] fails its Fletcher32 checksum"
fi
# A dataset declaring far more chunks than its file holds (a damaged shape): refused at once by
# inspect --verify, not walked chunk by chunk (a million here: minutes).
cp "$WORK/s.h5" "$WORK/huge.h5"
/usr/bin/python3 - "$WORK/huge.h5" <<'PY'
import h5py, sys
with h5py.File(sys.argv[1], "a", libver="latest") as f:
    f.create_dataset("extra/x", shape=(10**6, 10**6), dtype="f4", chunks=(1024, 1024), fletcher32=True)[0:4, 0:4] = 1
PY
t0=$(date +%s)
expect_exit 2 timeout 60 "$BIN" inspect --verify "$WORK/huge.h5"
expect_stderr "/extra/x: its dimensions \[1000000, 1000000\] in chunks of \[1024, 1024\] need"
(( $(date +%s) - t0 < 10 )) || fail "inspect --verify took $(( $(date +%s) - t0 )) s to refuse a damaged shape"
echo "corrupt_store: 20 flipped bytes, each detected and named; a damaged shape refused"
