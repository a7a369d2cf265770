#!/usr/bin/env bash
# The README's first command: installs, builds, and runs the embedded default job on 2 MPI ranks:
# synth (a synthetic universe as per-ticker CSV files) -> ingest -> inspect -> features -> train
# -> predict.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/runs/quickstart"  # configs/quickstart.toml names paths under runs/quickstart
RANKS="${TICKSTREAM_RANKS:-2}"

"$ROOT/launch/install-deps.sh"
"$ROOT/launch/build.sh" release
BIN="$ROOT/build/release/tickstream"

[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe --bind-to none -np "$RANKS")

rm -rf "$RUN"
mkdir -p "$RUN"
echo "== synth: 500 tickers x 1260 daily bars (5 years) with a planted signal"
"${MPIRUN[@]}" "$BIN" synth --tickers 500 --days 1260 --seed 1234 --signal 0.13 --csv-dir "$RUN/csv"
echo "== ingest: $RANKS ranks parse the CSV files and write one store collectively"
"${MPIRUN[@]}" "$BIN" ingest --input "$RUN/csv" --store "$RUN/store.h5" --report "$RUN/ingest.json"
echo "== inspect"
"${MPIRUN[@]}" "$BIN" inspect "$RUN/store.h5"
"$BIN" inspect "$RUN/store.h5" --json > "$RUN/inspect.json"
echo "== features: Kokkos kernels per ticker shard, statistics over the training period"
cd "$ROOT"
"${MPIRUN[@]}" "$BIN" features --config configs/quickstart.toml --report "$RUN/features.json"
FIRST=$("$BIN" inspect "$RUN/store.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['per_ticker'][0]['ticker'])")
"$BIN" features export --store "$RUN/store.h5" --ticker "$FIRST" --out "$RUN/$FIRST.features.csv"
echo "== train: GPT, data parallel over $RANKS ranks (gradients allreduced in buckets)"
"${MPIRUN[@]}" "$BIN" train --config configs/quickstart.toml | tee "$RUN/train.txt"
/usr/bin/python3 "$ROOT/launch/plot_metrics.py" "$RUN/metrics.jsonl" "$RUN/metrics.png" \
  --oracle-ic "$(/usr/bin/python3 -c "import json; print(json.load(open('$RUN/inspect.json'))['oracle_ic'])")"
SIGNAL=$(/usr/bin/python3 - "$RUN/metrics.jsonl" "$RUN/inspect.json" <<'PY'
import json, sys
last = [json.loads(l) for l in open(sys.argv[1])][-1]
oracle = json.load(open(sys.argv[2]))["oracle_ic"]
print(f"validation rank IC {last['val_rank_ic']:.4f} vs oracle IC {oracle:.4f} "
      f"({100 * last['val_rank_ic'] / oracle:.0f}%)")
PY
)
LAST=$("$BIN" inspect "$RUN/store.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['last_time'])")
echo "== predict: every ticker at $LAST with the newest checkpoint, ticker shards over $RANKS ranks"
"${MPIRUN[@]}" "$BIN" predict --config configs/quickstart.toml --checkpoint "$RUN/ckpt" --asof "$LAST" \
  --out "$RUN/predictions.csv" | tee "$RUN/predict.txt"
"${MPIRUN[@]}" "$BIN" predict --config configs/quickstart.toml --checkpoint "$RUN/ckpt" --asof "$LAST" \
  --out "$RUN/predictions.h5" > /dev/null
echo "top 5 by predicted return:"
/usr/bin/python3 - "$RUN/predictions.csv" <<'PY'
import csv, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["rank"]))[:5]
for r in rows:
    print(f"  {r['rank']:>3} {r['ticker']:<8} pred_return {float(r['pred_return']):+.5f}  P(up) {float(r['prob_up']):.3f}")
PY
echo
echo "quickstart done:"
echo "  csv      $RUN/csv"
echo "  store    $RUN/store.h5"
echo "  features $RUN/store.h5 (/features /labels /stats), one ticker: $RUN/$FIRST.features.csv"
echo "  checkpoint $(ls -d "$RUN"/ckpt/ckpt-*.pt | tail -1)"
echo "  metrics  $RUN/metrics.jsonl, plot $RUN/metrics.png, TensorBoard $RUN/tb"
echo "  predictions $RUN/predictions.csv (+ .skipped.csv), $RUN/predictions.h5"
echo "  reports  $RUN/ingest.json $RUN/inspect.json $RUN/features.json $RUN/train.txt $RUN/predict.txt"
echo "  signal   $SIGNAL"
