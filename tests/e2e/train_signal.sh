#!/usr/bin/env bash
# The quickstart job recovers the planted signal: a synthetic store with oracle IC >= 0.1, the
# quickstart GPT trained on 2 ranks reaches validation rank IC >= 70% of the oracle IC; trained
# again with [train] precision = "bf16" (CPU autocast) it reaches >= 90% of the fp32 run's rank IC.
# Without a GPU the job says "no GPU" once (rank 0), not once per rank or per call.
source "$(dirname "$0")/common.sh"
CONFIG="$TICKSTREAM_SOURCE_DIR/configs/quickstart.toml"
SETS=(--set data.store="$WORK/store.h5" --set train.checkpoint_dir="$WORK/ckpt" --set train.metrics="$WORK/metrics.jsonl")

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
  --set train.checkpoint_dir="$WORK/ckpt-bf16" --set train.metrics="$WORK/metrics-bf16.jsonl"
echo "train bf16: $(( $(date +%s) - START )) s"
ORACLE=$("$BIN" inspect "$WORK/store.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['oracle_ic'])")
/usr/bin/python3 - "$WORK/metrics.jsonl" "$ORACLE" "$WORK/metrics-bf16.jsonl" <<'PY'
import json, sys
def last_record(path):
    return [json.loads(line) for line in open(path)][-1]
oracle = float(sys.argv[2])
last = last_record(sys.argv[1])
bf16 = last_record(sys.argv[3])
print(f"oracle IC {oracle:.4f}, validation rank IC {last['val_rank_ic']:.4f} "
      f"({100 * last['val_rank_ic'] / oracle:.0f}% of the oracle) at step {last['step']}")
assert oracle >= 0.1, f"the store's oracle IC {oracle} is below 0.1"
assert last["val_rank_ic"] >= 0.7 * oracle, "the model did not recover 70% of the planted signal"
print(f"bf16: validation rank IC {bf16['val_rank_ic']:.4f} ({100 * bf16['val_rank_ic'] / last['val_rank_ic']:.0f}% of fp32)")
assert bf16["val_rank_ic"] >= 0.9 * last["val_rank_ic"], "bf16 reached less than 90% of the fp32 rank IC"
PY
