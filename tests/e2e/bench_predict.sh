#!/usr/bin/env bash
# bench predict smoke test: a tiny run exits 0 with the documented, verified JSON keys; bad usage exits 2.
source "$(dirname "$0")/common.sh"

expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" bench predict --tickers 40
expect_stderr "run it without mpirun"
expect_exit 2 "$BIN" bench predict --ranks-max 0
expect_exit 2 "$BIN" bench predict --model-config "$WORK/missing.toml" --tickers 40 --days 300
expect_exit 0 timeout 120 "$BIN" bench predict --json --tickers 200 --days 300 --repeat 1 --out "$WORK/predict.json"
cmp -s "$WORK/stdout" "$WORK/predict.json" || fail "--out differs from the printed JSON"
/usr/bin/python3 - "$WORK/predict.json" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
for k in ["benchmark", "machine", "config", "verified", "checkpoint", "gpu", "gpu_note", "scored", "skipped",
          "stocks_per_s_1", "stocks_per_s_2", "stocks_per_s_1_median", "stocks_per_s_2_median",
          "tickers_per_s_1", "tickers_per_s_2", "load_s_1", "pipeline_s_1", "stocks_per_s_incl_load_1",
          "scaling", "scaling_median", "scaling_per_repeat", "outside_forward_fraction_1",
          "outside_forward_fraction_2", "outside_forward_fraction_1_median", "seconds_1",
          "forward_flops_per_sample", "forward_gflops_1", "gemm_gflops", "gemm_gflops_2", "gemm_scaling",
          "forward_vs_gemm", "baseline_stocks_per_s", "vs_baseline", "targets", "met", "verification", "runs"]:
    assert k in j, k
assert j["benchmark"] == "predict" and j["verified"] is True, j["verified"]
assert j["checkpoint"] == "initialized, not trained" and j["gpu"] is None
assert {"host", "cores", "tag"} <= set(j["machine"]), j["machine"]
assert j["targets"] == {"stocks_per_s_1": 4000.0, "scaling": 1.8, "outside_forward_fraction_1": 0.1}, j["targets"]
assert set(j["met"]) == set(j["targets"]) and all(isinstance(v, bool) for v in j["met"].values()), j["met"]
assert j["baseline_stocks_per_s"] == 80 and abs(j["vs_baseline"] - j["stocks_per_s_1"] / 80) < 1e-9
c = j["config"]
assert c["tickers"] == 200 and c["days"] == 300 and c["threads_per_rank"] == 1, c
assert {"kind", "d_model", "n_layers", "n_heads", "seq_len"} <= set(c["model"]), c
assert j["scored"] > 0 and j["scored"] + j["skipped"] == 200, (j["scored"], j["skipped"])
assert len(j["runs"]) == 2 and sorted(r["ranks"] for r in j["runs"]) == [1, 2]
for r in j["runs"]:
    p = r["prediction"]
    assert p["scored"] == j["scored"] and p["written"] == p["scored"] and p["asof_bars"] == 1, p
    assert r["stocks_per_s"] > 0 and 0 <= r["outside_forward_fraction"] < 1, r
v = j["verification"]
assert v["files_compared_with_first_1_rank_run"] == 1 and v["predictions_per_file"] == j["scored"], v
assert 0 <= v["max_relative_difference"] <= v["tolerance"] == 1e-5, v
assert abs(j["scaling"] - j["stocks_per_s_2"] / j["stocks_per_s_1"]) < 1e-12
assert j["gemm_gflops"] > 0 and 0 < j["forward_vs_gemm"] < 10 and math.isfinite(j["forward_gflops_1"])
PY
echo "bench_predict: ok"
