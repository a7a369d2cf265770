#!/usr/bin/env bash
# Command line contract: --help everywhere, exit 2 on bad usage, inspect --json keys, version.
source "$(dirname "$0")/common.sh"

for cmd in synth ingest inspect features bench version; do
  expect_exit 0 "$BIN" $cmd --help
done
expect_exit 0 "$BIN" --help
expect_exit 2 "$BIN"
expect_exit 2 "$BIN" frobnicate
expect_exit 2 "$BIN" synth --tickers 10
expect_exit 2 "$BIN" synth --tickers 10 --days 20 --freq 2h --store "$WORK/x.h5"
expect_exit 2 "$BIN" synth --tickers 10 --days 20 --store "$WORK/x.h5" --csv-dir "$WORK/c"
expect_exit 2 "$BIN" ingest --input x.csv --store y.h5 --on-error maybe
expect_exit 2 "$BIN" inspect "$WORK/missing.h5"
echo "not a store" > "$WORK/bogus.h5"
expect_exit 2 "$BIN" inspect "$WORK/bogus.h5"
expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" inspect "$WORK/bogus.h5"

"${MPIRUN[@]}" -np 2 "$BIN" synth --tickers 12 --days 30 --freq 1min --store "$WORK/i.h5" >/dev/null
"$BIN" inspect "$WORK/i.h5" --json > "$WORK/i.json"
/usr/bin/python3 - "$WORK/i.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ["tickers", "bars", "frequency", "first_time", "last_time", "missing_fraction", "oracle_ic",
          "per_ticker", "file_bytes", "chunks"]:
    assert k in j, k
assert j["tickers"] == 12 and j["bars"] == 30 * 390 and j["frequency"] == "1min", j
assert j["first_time"] == "2010-01-04T14:30:00Z", j["first_time"]
assert set(j["per_ticker"][0]) == {"ticker", "first_time", "last_time", "bars", "missing_bars", "largest_gap"}
assert j["tickers_with_gaps"] >= 0 and j["largest_gap"] >= 0
assert j["oracle_ic"] is not None
PY
"$BIN" version --json > "$WORK/v.json"
/usr/bin/python3 - "$WORK/v.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert "gpus" in j and j["hdf5"].startswith("1."), j
major, minor = map(int, j["libtorch"]["version"].split(".")[:2])
assert (major, minor) >= (2, 11), j["libtorch"]
assert j["libtorch"]["cxx_standard"] in (17, 20), j["libtorch"]
assert j["kokkos"]["backend"] and j["kokkos"]["version"].count(".") == 2, j["kokkos"]
assert isinstance(j["cuda"]["built"], bool) and j["nccl"]["built"] == j["cuda"]["built"], j
if j["cuda"]["built"]:  # what it was built against is known; the run-time library is found
    assert j["cuda"]["architectures"] and all(a >= 50 for a in j["cuda"]["architectures"]), j["cuda"]
    assert j["cuda"]["toolkit"].split(".")[0] == j["libtorch"]["cuda"].split(".")[0], j
    assert j["nccl"]["headers"] and j["nccl"]["library"], j["nccl"]
else:
    assert j["cuda"]["architectures"] == [] and j["cuda"]["build_note"], j["cuda"]
PY
echo "cli: ok"
