#!/usr/bin/env bash
# bench loader smoke test: a tiny run exits 0 with the documented JSON keys; bad usage exits 2.
source "$(dirname "$0")/common.sh"

expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" bench loader --tickers 64 --bars 600
expect_stderr "run it without mpirun"
expect_exit 2 "$BIN" bench loader --tickers 64 --bars 600 --seq-len 700
expect_exit 0 timeout 60 "$BIN" bench loader --json --tickers 64 --bars 600 --tile-tickers 32 --tile-bars 256 \
  --batches 20 --repeat 1 --out "$WORK/loader.json"
cmp -s "$WORK/stdout" "$WORK/loader.json" || fail "--out differs from the printed JSON"
/usr/bin/python3 - "$WORK/loader.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ["benchmark", "machine", "store", "tile", "bytes", "verified", "raw_mb_s_loader", "raw_mb_s_h5read",
          "raw_ratio", "raw_ratio_median", "raw_ratio_per_repeat", "tile_read_ms", "stall_fraction_p2",
          "stall_fraction_p0", "stall_fraction_p2_after_first", "overlap_speedup", "overlap_speedup_per_repeat",
          "wall_s_p0_runs", "wall_s_p2_runs", "assembly_ms_median", "assembly_ms_p99", "assembly_us_gpu",
          "peak_mb", "bound_mb", "buffer_allocations_p2", "targets", "met"]:
    assert k in j, k
assert j["benchmark"] == "loader" and j["verified"] is True
assert {"host", "cores", "tag"} <= set(j["machine"]), j["machine"]
assert j["store"]["tickers"] == 64 and j["store"]["bars"] == 600 and j["tile"]["tiles"] == 6, (j["store"], j["tile"])
assert j["targets"]["raw_ratio"] == 0.8 and j["targets"]["stall_fraction_p2"] == 0.01, j["targets"]
assert j["raw_mb_s_loader"] > 0 and j["raw_mb_s_h5read"] > 0 and abs(j["raw_ratio"] - j["raw_mb_s_loader"] / j["raw_mb_s_h5read"]) < 1e-9
assert 0 <= j["stall_fraction_p2"] <= 1 and 0 <= j["stall_fraction_p0"] <= 1 and j["overlap_speedup"] > 0
assert 0 < j["peak_mb"] <= j["bound_mb"] and j["buffer_allocations_p2"] >= 1, (j["peak_mb"], j["bound_mb"])
assert 0 < j["assembly_ms_median"] <= j["assembly_ms_p99"] and j["assembly_us_gpu"] is None
PY
echo "bench_loader: ok"
