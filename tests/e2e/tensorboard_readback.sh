#!/usr/bin/env bash
# TensorBoard event files of a short 2-rank training run, read back with the tensorboard package
# (installed into .venv by launch/install-deps.sh; missing = failure): one file (rank 0), every tag,
# increasing steps, values equal to the metrics log's at float32 precision; the same after a resume
# from an earlier checkpoint; tensorboard_dir = "" writes none.
source "$(dirname "$0")/common.sh"
SRC="${TICKSTREAM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
PY="${TICKSTREAM_VENV:-$SRC/.venv}/bin/python"
"$PY" -c "import tensorboard" 2>/dev/null ||
  fail "the tensorboard package is missing from $PY: run launch/install-deps.sh"

"$BIN" synth --tickers 40 --days 330 --seed 5 --signal 0.2 --store "$WORK/s.h5" >/dev/null
# 100 steps: progress lines at 50 and 100, evaluations at 30, 60, 90 and the final one at 100.
small_job "[train]
batch_size = 32
max_steps = 100
warmup_steps = 10
eval_every = 30
checkpoint_dir = \"$WORK/ckpt\"
metrics = \"$WORK/metrics.jsonl\"
tensorboard_dir = \"$WORK/tb\""
expect_exit 0 "$BIN" features --config "$WORK/job.toml"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/job.toml"

cat > "$WORK/check.py" <<'PY'
# check.py TB_DIR METRICS_JSONL N_FILES: the event files read by TensorBoard against the metrics log.
import glob, json, math, os, sys, time
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

tb_dir, metrics_path, n_files = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = glob.glob(os.path.join(tb_dir, "*"))
assert len(files) == n_files, f"expected {n_files} event files (rank 0, one per run), found {files}"
assert all(os.path.basename(f).startswith("events.out.tfevents.") for f in files), files
# The last record of each step: a resumed run appends its records after the interrupted run's.
records = list({r["step"]: r for r in map(json.loads, open(metrics_path))}.values())
assert [r["step"] for r in records] == [30, 60, 90, 100], [r["step"] for r in records]

acc = EventAccumulator(tb_dir, size_guidance={"scalars": 0})  # 0: keep every point
acc.Reload()
assert acc.file_version == 2.0, acc.file_version
tags = set(acc.Tags()["scalars"])
gpu = any(r["device_memory_mb"] for r in records)
want = {"train/loss", "train/lr", "train/samples_per_s", "val/loss", "val/ic", "val/rank_ic", "val/icir",
        "val/dir_acc", "loader/stall_fraction"} | ({"device/memory_mb"} if gpu else set())
assert tags == want, f"tags {sorted(tags)}, expected {sorted(want)}"
scalars = {tag: acc.Scalars(tag) for tag in tags}
for tag, points in scalars.items():
    steps = [p.step for p in points]
    assert steps == sorted(set(steps)), f"{tag}: steps not increasing: {steps}"
    assert all(abs(p.wall_time - time.time()) < 3600 for p in points), f"{tag}: wall times {points}"
assert [p.step for p in scalars["train/loss"]] == [30, 50, 60, 90, 100], scalars["train/loss"]

def f32(x):
    return float(np.float32(x))

# Each evaluation tag has the metrics log's value at each step where that is not null.
keys = {"val/loss": "val_loss", "val/ic": "val_ic", "val/rank_ic": "val_rank_ic", "val/icir": "val_icir",
        "val/dir_acc": "val_dir_acc", "loader/stall_fraction": "stall_fraction", "train/loss": "loss"}
for tag, key in keys.items():
    got = {p.step: p.value for p in scalars[tag]}
    for r in records:
        if r[key] is None:
            assert r["step"] not in got, f"{tag} at step {r['step']}: null in the metrics log, {got[r['step']]} here"
        else:
            assert got.get(r["step"]) == f32(r[key]), f"{tag} at step {r['step']}: {got.get(r['step'])} != {r[key]}"
rank_ic = [p.value for p in scalars["val/rank_ic"]]
assert len(rank_ic) == 4 and all(math.isfinite(v) for v in rank_ic), rank_ic
if gpu:
    got = {p.step: p.value for p in scalars["device/memory_mb"]}
    for r in records:
        assert got[r["step"]] == f32(max(m["reserved"] for m in r["device_memory_mb"])), (got, r)
lr = {p.step: p.value for p in scalars["train/lr"]}
assert 0 < lr[100] < lr[50], lr  # cosine decay after the warm-up
print("tensorboard readback:", {t: len(p) for t, p in sorted(scalars.items())})
PY
"$PY" "$WORK/check.py" "$WORK/tb" "$WORK/metrics.jsonl" 1 || fail "event files do not match the metrics log"

# Resume after a crash: a run checkpoints at 30, 60, 90 and 100; 90 and 100 are removed, as if it
# had died after writing step 100's events but before checkpoint 90 was complete. The resumed run's
# file starts a session after step 60: TensorBoard drops the first file's later points for its own.
R=(--set "train.checkpoint_dir=\"$WORK/r/ckpt\"" --set "train.metrics=\"$WORK/r/metrics.jsonl\""
   --set "train.tensorboard_dir=\"$WORK/r/tb\"" --set train.checkpoint_every=30)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/job.toml" "${R[@]}"
rm "$WORK"/r/ckpt/ckpt-00000090.* "$WORK"/r/ckpt/ckpt-00000100.*
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$WORK/job.toml" "${R[@]}" --resume
grep -q "resume: .*ckpt-00000060.pt (step 60" "$WORK/stdout" "$WORK/stderr" || fail "did not resume at step 60"
"$PY" "$WORK/check.py" "$WORK/r/tb" "$WORK/r/metrics.jsonl" 2 || fail "resumed run's event files do not match"

# tensorboard_dir = "" writes no event files (run in a folder of its own: none under a relative
# default either).
mkdir "$WORK/off"
cd "$WORK/off"
expect_exit 0 "$BIN" train --config "$WORK/job.toml" --set train.max_steps=2 --set train.eval_every=1 \
  --set "train.checkpoint_dir=\"$WORK/off/ckpt\"" --set "train.metrics=\"$WORK/off/metrics.jsonl\"" \
  --set 'train.tensorboard_dir=""'
[[ $(wc -l < "$WORK/off/metrics.jsonl") -eq 2 ]] || fail "expected 2 evaluations in off/metrics.jsonl"
[[ -z "$(find "$WORK/off" -name 'events.out.tfevents.*')" ]] ||
  fail "tensorboard_dir = \"\" wrote event files: $(find "$WORK/off" -name 'events.out.tfevents.*')"
echo "tensorboard_readback: ok"
