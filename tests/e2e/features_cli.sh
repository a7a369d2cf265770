#!/usr/bin/env bash
# features CLI: bad configs exit 2 naming the key; run, cache hit, export columns (docs/outputs.md).
source "$(dirname "$0")/common.sh"

"$BIN" synth --tickers 30 --days 200 --store "$WORK/s.h5" >/dev/null
cat > "$WORK/job.toml" <<TOML
[data]
store = "$WORK/s.h5"
train_start = 2010-01-04
train_end = 2010-06-30
TOML
printf '[data]\nstore = "x.h5"\n[train]\nlrr = 1\n' > "$WORK/bad.toml"
expect_exit 2 "$BIN" features --config "$WORK/bad.toml"
expect_stderr "bad.toml:4: \[train\] lrr: unknown key (did you mean 'lr'?)"
expect_exit 2 "$BIN" features --config "$WORK/job.toml" --set model.kind=cnn
expect_stderr "\[model\] kind: 'cnn' is not allowed"
expect_exit 2 "$BIN" features --config "$WORK/missing.toml"
expect_exit 2 "$BIN" features
expect_stderr "features: --config is required"

expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" features --config "$WORK/job.toml"
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
grep -q "cache hit" "$WORK/stdout" || fail "second run was not a cache hit"
# Started without a launcher, a data command runs as one rank without MPI (no orted); under
# mpirun it initializes MPI.
expect_exit 0 "$BIN" -v features --config "$WORK/job.toml"
cat "$WORK/stdout" "$WORK/stderr" | grep -q "MPI not initialized" || fail "a direct run initialized MPI"
expect_exit 0 "${MPIRUN[@]}" -np 1 "$BIN" -v features --config "$WORK/job.toml"
! cat "$WORK/stdout" "$WORK/stderr" | grep -q "MPI not initialized" || fail "a run under mpirun did not initialize MPI"
T=$(/usr/bin/python3 -c "import h5py; print(h5py.File('$WORK/s.h5')['meta/tickers'][3].decode())")
expect_exit 0 "$BIN" features export --store "$WORK/s.h5" --ticker "$T" --out "$WORK/t.csv"
expect_exit 2 "$BIN" features export --store "$WORK/s.h5" --ticker NOPE --out "$WORK/n.csv"
expect_stderr "ticker 'NOPE' not in the store"
/usr/bin/python3 - "$WORK/t.csv" "$WORK/s.h5" <<'PY'
import sys, h5py, numpy as np, pandas as pd
df = pd.read_csv(sys.argv[1])
with h5py.File(sys.argv[2]) as f:
    names = [n for n in f["features/values"].attrs["names"]] + [n for n in f["labels/values"].attrs["names"]]
    assert list(df.columns) == ["date"] + names, list(df.columns)
    assert len(df) == f["meta/time"].shape[0]
    assert df["rsi_14"].dropna().between(0, 100).all()
    assert set(df["fwd_up_1"].dropna().unique()) <= {0.0, 1.0}
    assert f["stats/mean"].shape == (len(f["features/values"].attrs["names"]),) and f["stats"].attrs["period_end"] == "2010-06-30"
PY
# A failure mid-write (injected on rank 1 while rank 0 writes) leaves the previous store: same
# features, same cache key, no temp file.
before=$(h5dump -a /features/values/cache_key "$WORK/s.h5" | grep -o '"[0-9a-f]*"')
expect_exit 1 env TICKSTREAM_INJECT_FAULT=features_write@1 timeout 60 "${MPIRUN[@]}" -np 2 "$BIN" features \
  --config "$WORK/job.toml" --set features.horizon=4
expect_stderr "injected fault at features_write on rank 1"
after=$(h5dump -a /features/values/cache_key "$WORK/s.h5" | grep -o '"[0-9a-f]*"')
[[ "$before" == "$after" ]] || fail "store changed by a failed run"
ls "$WORK" | grep -q '\.tmp-' && fail "temp file left behind"
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
grep -q "cache hit" "$WORK/stdout" || fail "store after a failed run is not the previous one"
echo "features_cli: ok"
