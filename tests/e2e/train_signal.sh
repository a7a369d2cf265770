#!/usr/bin/env bash
# The quickstart job recovers the planted signal: a synthetic store with oracle IC >= 0.1, the
# quickstart GPT trained on 2 ranks reaches validation rank IC >= 70% of the oracle IC. Trained
# again with [train] precision = "bf16" (CPU autocast) for its first 200 steps (--stop-after: the
# same schedule, evaluated at step 200; bf16 is emulated on this CPU, ~5x slower), its rank IC is
# >= 90% of the fp32 run's at step 200.
# Without a GPU the job says "no GPU" once (rank 0), not once per rank or per call.
source "$(dirname "$0")/common.sh"
CONFIG="$TICKSTREAM_SOURCE_DIR/configs/quickstart.toml"
SETS=(--set data.store="$WORK/store.h5" --set train.checkpoint_dir="$WORK/ckpt" --set train.metrics="$WORK/metrics.jsonl"
      --set train.tensorboard_dir="$WORK/tb")

"${MPIRUN[@]}" -np 2 "$BIN" synth --tickers 500 --days 1260 --seed 1234 --signal 0.13 --store "$WORK/store.h5" >/dev/null
"${MPIRUN[@]}" -np 2 "$BIN" features --config "$CONFIG" "${SETS[@]}" >/dev/null
START=$(date +%s)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$CONFIG" "${SETS[@]}"
echo "train fp32: $(( $(date +%s) - START )) s"
if [[ "$("$BIN" version --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gpus"])')" == 0 ]]; then
  n=$(grep -c "no GPU" "$WORK/stderr" || true)
  [[ $n -eq 1 ]] || { cat "$WORK/stderr" >&2; fail "'no GPU' said $n times (expected once)"; }
fi
START=$(date +%s)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" train --config "$CONFIG" "${SETS[@]}" --set train.precision=bf16 \
  --set train.checkpoint_dir="$WORK/ckpt-bf16" --set train.metrics="$WORK/metrics-bf16.jsonl" \
  --set train.tensorboard_dir="$WORK/tb-bf16" --stop-after 200
echo "train bf16: $(( $(date +%s) - START )) s"
ORACLE=$("$BIN" inspect "$WORK/store.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['oracle_ic'])")
/usr/bin/python3 - "$WORK/metrics.jsonl" "$ORACLE" "$WORK/metrics-bf16.jsonl" <<'PY'
import json, sys
def evaluations(path):
    return {r["step"]: r for r in map(json.loads, open(path)) if "val_rank_ic" in r}
oracle = float(sys.argv[2])
fp32 = evaluations(sys.argv[1])
last = fp32[max(fp32)]
bf16 = evaluations(sys.argv[3])[200]
print(f"oracle IC {oracle:.4f}, validation rank IC {last['val_rank_ic']:.4f} "
      f"({100 * last['val_rank_ic'] / oracle:.0f}% of the oracle) at step {last['step']}")
assert oracle >= 0.1, f"the store's oracle IC {oracle} is below 0.1"
assert last["val_rank_ic"] >= 0.7 * oracle, "the model did not recover 70% of the planted signal"
ref = fp32[200]["val_rank_ic"]
print(f"step 200: validation rank IC fp32 {ref:.5f}, bf16 {bf16['val_rank_ic']:.5f} ({100 * bf16['val_rank_ic'] / ref:.1f}%), "
      f"val loss fp32 {fp32[200]['val_loss']:.7f}, bf16 {bf16['val_loss']:.7f}")
assert bf16["val_loss"] != fp32[200]["val_loss"], "bf16 run identical to fp32: autocast had no effect"
assert bf16["val_rank_ic"] >= 0.9 * ref, "bf16 reached less than 90% of the fp32 rank IC"
PY
