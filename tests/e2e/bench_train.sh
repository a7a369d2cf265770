#!/usr/bin/env bash
# bench train smoke test: a tiny run exits 0 with the documented JSON keys; bad usage exits 2.
source "$(dirname "$0")/common.sh"

expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" bench train --steps 1
expect_stderr "run it without mpirun"
expect_exit 2 "$BIN" bench train --ranks-max 0
expect_exit 2 "$BIN" bench train --model-config "$WORK/missing.toml" --tickers 40 --days 300 --steps 1
expect_exit 0 timeout 120 "$BIN" bench train --json --tickers 40 --days 300 --steps 3 --warmup 2 --repeat 2 \
  --out "$WORK/train.json"
cmp -s "$WORK/stdout" "$WORK/train.json" || fail "--out differs from the printed JSON"
/usr/bin/python3 - "$WORK/train.json" <<'PY'
import json, math, sys
j = json.load(open(sys.argv[1]))
for k in ["benchmark", "machine", "config", "verified", "samples_per_s_1", "samples_per_s_2",
          "samples_per_s_1_median", "samples_per_s_2_median", "scaling_efficiency",
          "scaling_efficiency_median", "scaling_efficiency_2_per_repeat", "comm_wait_fraction_2",
          "comm_wait_fraction_2_median", "comm_wait_fraction_2_min_rank", "other_threads_cpu_fraction_2",
          "forward_flops_per_sample", "training_flops_per_sample", "model_gflops_1", "gemm_gflops",
          "gemm", "gemm_gflops_2", "gemm_scaling_efficiency", "scaling_efficiency_vs_gemm", "model_vs_gemm",
          "targets", "met", "runs"]:
    assert k in j, k
assert j["benchmark"] == "train" and j["verified"] is True
assert {"host", "cores", "tag"} <= set(j["machine"]), j["machine"]
assert j["targets"] == {"scaling_efficiency": 0.9, "comm_wait_fraction": 0.05}, j["targets"]
c = j["config"]
assert c["steps"] == 3 and c["warmup_steps"] == 2 and c["threads_per_rank"] == 1, c
assert {"kind", "d_model", "n_layers", "n_heads", "seq_len"} <= set(c["model"]), c
assert len(j["runs"]) == 4 and sorted(r["ranks"] for r in j["runs"]) == [1, 1, 2, 2]
for r in j["runs"]:
    assert r["steps"] == 3 and r["last_step"] == 5 and math.isfinite(r["loss"]), r
    assert r["samples_per_s"] > 0 and 0 <= r["comm_wait_fraction"] <= 1, r
assert j["samples_per_s_1"] > 0 and j["gemm_gflops"] > 0 and 0 < j["model_vs_gemm"] < 10
eff = j["samples_per_s_2"] / (2 * j["samples_per_s_1"])
assert abs(j["scaling_efficiency"] - eff) < 1e-12, (j["scaling_efficiency"], eff)
PY
echo "bench_train: ok"
