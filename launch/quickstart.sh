#!/usr/bin/env bash
# The README's first command: installs, builds, and runs the embedded default job on 2 MPI ranks:
# synth (a synthetic universe as per-ticker CSV files) -> ingest -> inspect -> features.
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
"${MPIRUN[@]}" "$BIN" synth --tickers 500 --days 1260 --seed 1234 --signal 0.1 --csv-dir "$RUN/csv"
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
echo
echo "quickstart done:"
echo "  csv      $RUN/csv"
echo "  store    $RUN/store.h5"
echo "  features $RUN/store.h5 (/features /labels /stats), one ticker: $RUN/$FIRST.features.csv"
echo "  reports  $RUN/ingest.json $RUN/inspect.json $RUN/features.json"
