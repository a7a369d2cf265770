#!/usr/bin/env bash
# What the stores' Fletcher32 checksums cost: the same store with them (as tickstream writes it)
# and without (h5repack -f NONE), read by `bench loader` (the chunk loader's MB/s) in runs that
# alternate A, B, A, B, ... in one invocation; file sizes. Verifies the two stores hold the same
# values (h5diff). Prints JSON. Usage: bench/checksum_cost.sh [WORK] [REPEATS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-/tmp/tickstream-bench-checksum}"
REPEATS="${2:-3}"
BIN="${TICKSTREAM_BIN:-$ROOT/build/release/tickstream}"
rm -rf "$WORK" && mkdir -p "$WORK/with" "$WORK/without"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$BIN" bench loader --json --repeat 1 --keep-store "$WORK/with" > /dev/null
cp "$WORK/with/shape.txt" "$WORK/with/bench.toml" "$WORK/without/"
h5repack -f NONE "$WORK/with/store.h5" "$WORK/without/store.h5"
h5diff -q "$WORK/with/store.h5" "$WORK/without/store.h5" /features/values /features/values
for ((i = 0; i < REPEATS; ++i)); do
  for v in with without; do
    "$BIN" bench loader --json --repeat 1 --keep-store "$WORK/$v" > "$WORK/$v-$i.json"
  done
done
python3 - "$WORK" "$REPEATS" <<'PY'
import json, os, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
def runs(v, key): return [json.load(open(f"{work}/{v}-{i}.json"))[key] for i in range(n)]
out = {"benchmark": "checksum_cost", "repeats": n,
       "method": "bench loader on the same store with Fletcher32 (as written) and without (h5repack -f NONE), "
                 "alternating runs in one invocation; warm page cache",
       "bytes_with": os.path.getsize(f"{work}/with/store.h5"), "bytes_without": os.path.getsize(f"{work}/without/store.h5")}
for key in ("raw_mb_s_loader", "raw_mb_s_h5read"):
    a, b = runs("with", key), runs("without", key)
    out[key + "_with"], out[key + "_without"] = a, b
    out[key + "_ratio_median"] = statistics.median(a) / statistics.median(b)
out["size_ratio"] = out["bytes_with"] / out["bytes_without"]
out["verified"] = True
out["target"] = {"read_slowdown_max": 0.05}
out["met"] = out["raw_mb_s_loader_ratio_median"] >= 0.95
print(json.dumps(out, indent=2))
PY
