#!/usr/bin/env bash
# launch/plot_metrics.py: a PNG from a metrics .jsonl; exit 2 naming FILE:LINE on bad input.
source "$(dirname "$0")/common.sh"
SCRIPT="${TICKSTREAM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/launch/plot_metrics.py"
PY=/usr/bin/python3
$PY -c "import matplotlib" 2>/dev/null ||
  fail "python3-matplotlib is missing: run launch/install-deps.sh"

# Ten evaluations, the first without a defined ICIR (null), then a blank line.
$PY - "$WORK/m.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(10):
        step = 100 * (i + 1)
        f.write(json.dumps({"step": step, "epoch": i // 5, "loss": 1.0 / (i + 1), "lr": 3e-4,
                            "samples_per_s": 1000.0, "val_loss": 1.1 / (i + 1),
                            "val_dir_acc": 0.5 + 0.01 * i, "val_ic": 0.01 * i,
                            "val_rank_ic": 0.012 * i, "val_icir": None if i == 0 else 0.3,
                            "wall_s": 2.0 * i, "stall_fraction": 0.0}) + "\n")
    f.write("\n")
PY

expect_exit 0 $PY "$SCRIPT" "$WORK/m.jsonl" "$WORK/m.png" --oracle-ic 0.05
[[ "$(head -c 8 "$WORK/m.png" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] ||
  fail "m.png is not a PNG"
[[ $(stat -c %s "$WORK/m.png") -gt 10000 ]] || fail "m.png is suspiciously small"
ls "$WORK" | grep -q tmp && fail "a temporary file was left behind: $(ls "$WORK")"
expect_exit 0 $PY "$SCRIPT" "$WORK/m.jsonl" "$WORK/plain.png"

# A bad JSON line (line 3), a missing key (line 2), a non-number, no records, no file.
{ head -n 2 "$WORK/m.jsonl"; echo '{"step": 300, "loss":'; } > "$WORK/bad.jsonl"
expect_exit 2 $PY "$SCRIPT" "$WORK/bad.jsonl" "$WORK/bad.png"
expect_stderr "bad.jsonl:3"
expect_stderr "bad JSON"
[[ ! -e "$WORK/bad.png" ]] || fail "bad.png written from bad input"

{ head -n 1 "$WORK/m.jsonl"; head -n 1 "$WORK/m.jsonl" | sed 's/"val_rank_ic": [^,]*, //'; } \
  > "$WORK/nokey.jsonl"
expect_exit 2 $PY "$SCRIPT" "$WORK/nokey.jsonl" "$WORK/nokey.png"
expect_stderr "nokey.jsonl:2: missing key 'val_rank_ic'"

head -n 1 "$WORK/m.jsonl" | sed 's/"loss": [^,]*,/"loss": "low",/' > "$WORK/text.jsonl"
expect_exit 2 $PY "$SCRIPT" "$WORK/text.jsonl" "$WORK/text.png"
expect_stderr "text.jsonl:1: key 'loss' is not a number"

: > "$WORK/empty.jsonl"
expect_exit 2 $PY "$SCRIPT" "$WORK/empty.jsonl" "$WORK/empty.png"
expect_stderr "no records"

expect_exit 2 $PY "$SCRIPT" "$WORK/missing.jsonl" "$WORK/missing.png"
expect_stderr "missing.jsonl: cannot read"
expect_exit 2 $PY "$SCRIPT" "$WORK/m.jsonl" "$WORK/no/such/dir/m.png"
expect_stderr "does not exist"
expect_exit 2 $PY "$SCRIPT"
echo "plot_metrics: ok"
