#!/usr/bin/env bash
# `tickstream backtest --walk-forward` on 2 ranks. A synthetic store (120 tickers x 700 days, a
# planted signal): the folds are the ones the fold arithmetic gives, every train window ends before
# its test window, test windows do not overlap, the folds' mean out-of-sample rank IC is more than
# half the oracle IC, portfolio.csv has a row per out-of-sample bar with its equity the running
# product of (1 + net) and a consistent drawdown, the PNG is a PNG. Bad [backtest] values exit 2.
# Leak test: a store whose signal drives returns only from session S on: the fold tested from S
# trains only on bars before S, so its model is bit for bit the one trained on the same store
# without any signal (nothing after S reached it), and its out-of-sample |rank IC| is < 0.03; the
# next fold, trained on bars after S, finds the signal (rank IC > 0.05).
source "$(dirname "$0")/common.sh"
T0=$(date +%s)

# bar_date STORE K: the date of bar K of a synthetic daily store (business days from 2010-01-04),
# checked against the store's last date.
bar_date() {
  "$BIN" inspect "$1" --json | /usr/bin/python3 -c '
import datetime as dt, json, sys
info, want = json.load(sys.stdin), int(sys.argv[1])
days, d = [], dt.date(2010, 1, 4)
while len(days) < info["bars"]:
    if d.weekday() < 5:
        days.append(d.isoformat())
    d += dt.timedelta(days=1)
assert days[0] == info["first_time"] and days[-1] == info["last_time"], \
    f"the synthetic calendar is not business days from 2010-01-04: {info['first_time']}..{info['last_time']}"
print(days[want])' "$2"
}

# job DIR STORE BACKTEST_KEYS [MAX_STEPS [EVAL_EVERY]]: DIR/job.toml, a one-layer 16-wide GPT on STORE.
job() {
  mkdir -p "$1"
  cat > "$1/job.toml" <<TOML
[data]
store = "$2"
[features]
horizon = 1
[model]
kind = "gpt"
d_model = 16
n_layers = 1
n_heads = 2
seq_len = 16
[train]
batch_size = 64
max_steps = ${4:-80}
lr = 1e-3
warmup_steps = 10
eval_every = ${5:-40}
seed = 1234
checkpoint_dir = "$1/unused/ckpt"
metrics = "$1/unused/metrics.jsonl"
tensorboard_dir = "$1/unused/tb"
[backtest]
out_dir = "$1/bt"
$3
TOML
}

# --- Folds, out-of-sample statistics, portfolio, PNG ------------------------------------------
"${MPIRUN[@]}" -np 2 "$BIN" synth --tickers 120 --days 700 --seed 5 --signal 0.2 --store "$WORK/s.h5" >/dev/null
job "$WORK/a" "$WORK/s.h5" 'train_bars = 250
valid_bars = 50
gap_bars = 5
test_bars = 150
window = "expanding"
quantile = 0.2
cost_bps = 5'
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" features --config "$WORK/a/job.toml"
S=$(date +%s)
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" backtest --walk-forward --config "$WORK/a/job.toml"
echo "backtest (120 tickers x 700 bars, 2 ranks): $(( $(date +%s) - S )) s"
grep -q "^backtest: wrote .*/backtest.png" "$WORK/stdout" || { cat "$WORK/stdout" "$WORK/stderr" >&2; fail "no PNG reported"; }
"$BIN" inspect "$WORK/s.h5" --json > "$WORK/inspect.json"
/usr/bin/python3 - "$WORK/a/bt" "$WORK/inspect.json" <<'PY'
import csv, datetime as dt, json, math, sys
out, info = sys.argv[1], json.load(open(sys.argv[2]))
r = json.load(open(f"{out}/backtest.json"))
bars, horizon = info["bars"], 1
train_bars, valid_bars, gap_bars, test_bars = 250, 50, 5, 150
dates, d = [], dt.date(2010, 1, 4)
while len(dates) < bars:
    if d.weekday() < 5:
        dates.append(d.isoformat())
    d += dt.timedelta(days=1)
assert dates[-1] == info["last_time"], (dates[-1], info["last_time"])
bar = {s: k for k, s in enumerate(dates)}

# The fold arithmetic: the first test bar after train_bars + gap_bars, a fold every test_bars while
# its test start is scorable (<= bars - 1 - horizon), the last test window cut there.
last = bars - 1 - horizon
want = [(t, min(t + test_bars - 1, last)) for t in range(train_bars + gap_bars, last + 1, test_bars)]
folds = r["folds"]
assert len(folds) == len(want), f"{len(folds)} folds, the arithmetic gives {len(want)}"
def span(w):
    return (bar[w["first"]], bar[w["last"]], w["bars"])
prev_test_last = -1
for f, (t0, t1) in zip(folds, want):
    k = f["fold"]
    assert span(f["test"]) == (t0, t1, t1 - t0 + 1), f"fold {k}: test {f['test']}, expected bars {t0}..{t1}"
    train_last = t0 - gap_bars - 1
    assert span(f["train"]) == (0, train_last, train_last + 1), f"fold {k}: train {f['train']}"
    assert span(f["valid"]) == (train_last - valid_bars + 1, train_last, valid_bars), f"fold {k}: valid {f['valid']}"
    assert span(f["fit"]) == (0, train_last - valid_bars, train_last - valid_bars + 1), f"fold {k}: fit {f['fit']}"
    assert f["train"]["last"] < f["test"]["first"], f"fold {k}: train ends {f['train']['last']}, test starts {f['test']['first']}"
    assert bar[f["test"]["first"]] > prev_test_last, f"fold {k}: its test window overlaps the previous one"
    prev_test_last = bar[f["test"]["last"]]
    assert f["steps"] == 80 and f["stop_reason"] == "max_steps", f"fold {k}: {f['steps']} steps, {f['stop_reason']}"
    assert f["checkpoint"].startswith(f"{out}/fold-{k:03d}/ckpt/"), f["checkpoint"]
    assert 0 < f["oos"]["samples"] <= f["scored"] <= 120 * f["test"]["bars"], f"fold {k}: {f['oos']}, scored {f['scored']}"
    assert f["oos"]["dates"] == f["test"]["bars"], f"fold {k}: oos over {f['oos']['dates']} dates"
    assert f["portfolio"]["days"] == f["test"]["bars"], f"fold {k}: portfolio days {f['portfolio']['days']}"
ics = [f["oos"]["rank_ic"] for f in folds]
mean_ic, oracle = sum(ics) / len(ics), info["oracle_ic"]
o = r["overall"]
assert math.isclose(o["mean_fold_rank_ic"], mean_ic, rel_tol=1e-9), (o["mean_fold_rank_ic"], mean_ic)
assert math.isclose(o["oracle_ic"], oracle, rel_tol=1e-9), (o["oracle_ic"], oracle)
assert o["samples"] == sum(f["oos"]["samples"] for f in folds) and o["dates"] == sum(f["test"]["bars"] for f in folds), o
print(f"backtest: {len(folds)} folds, out-of-sample rank IC {[round(x, 4) for x in ics]}, mean {mean_ic:.4f}, "
      f"oracle IC {oracle:.4f}")
assert mean_ic > 0.5 * oracle, f"mean fold rank IC {mean_ic:.4f} <= half the oracle IC {oracle:.4f}"

# portfolio.csv: a row per out-of-sample bar (every one has >= 2 tradable tickers here), in date
# order, each in its fold; equity the running product of (1 + net), drawdown from the running peak.
rows = list(csv.DictReader(open(f"{out}/portfolio.csv")))
p = r["portfolio"]
test_dates = [dates[t] for t0, t1 in want for t in range(t0, t1 + 1)]
assert len(rows) == p["days"] == len(test_dates), f"portfolio.csv: {len(rows)} rows, days {p['days']}, {len(test_dates)} test bars"
assert [x["date"] for x in rows] == test_dates, "portfolio.csv dates are not the test bars in order"
equity, peak, max_dd = 1.0, 1.0, 0.0
for x in rows:
    k = int(x["fold"])
    assert folds[k]["test"]["first"] <= x["date"] <= folds[k]["test"]["last"], f"{x['date']} is not in fold {k}'s test window"
    assert int(x["n_long"]) == int(x["n_short"]) >= 1, x
    for c in ("long_return", "short_return", "gross", "traded", "cost", "net", "equity", "drawdown"):
        assert math.isfinite(float(x[c])), x
    assert math.isclose(float(x["gross"]), float(x["long_return"]) - float(x["short_return"]), rel_tol=1e-6, abs_tol=1e-9), x
    assert math.isclose(float(x["net"]), float(x["gross"]) - float(x["cost"]), rel_tol=1e-6, abs_tol=1e-9), x
    assert math.isclose(float(x["cost"]), float(x["traded"]) * p["cost_bps"] * 1e-4, rel_tol=1e-5, abs_tol=1e-9), x
    equity *= 1.0 + float(x["net"])
    peak = max(peak, equity)
    max_dd = max(max_dd, 1.0 - equity / peak)
    assert math.isclose(float(x["equity"]), equity, rel_tol=1e-6), f"{x['date']}: equity {x['equity']}, running product {equity}"
    assert abs(float(x["drawdown"]) - (1.0 - equity / peak)) < 1e-6, f"{x['date']}: drawdown {x['drawdown']}, expected {1 - equity / peak}"
assert math.isclose(p["total_return"], equity - 1.0, rel_tol=1e-6), (p["total_return"], equity - 1)
assert abs(p["max_drawdown"] - max_dd) < 1e-6, (p["max_drawdown"], max_dd)
assert p["quantile"] == 0.2 and p["cost_bps"] == 5 and p["periods_per_year"] == 252, p
with open(f"{out}/backtest.png", "rb") as png:
    assert png.read(8) == b"\x89PNG\r\n\x1a\n", "backtest.png is not a PNG"
print(f"portfolio: {len(rows)} days, total return {p['total_return']:.3f}, max drawdown {p['max_drawdown']:.4f}")
PY

# Bad [backtest] values: exit 2, naming the key.
expect_exit 2 "$BIN" backtest --walk-forward --config "$WORK/a/job.toml" --set backtest.test_bars=0 --no-plot
expect_stderr "\[backtest\] test_bars"
expect_exit 2 "$BIN" backtest --walk-forward --config "$WORK/a/job.toml" --set backtest.step_bars=5 \
  --set backtest.test_bars=10 --no-plot
expect_stderr "\[backtest\] step_bars"

# --- Leak test ---------------------------------------------------------------------------------
# 300 tickers x 651 sessions, the signal from session 250 on. Rolling 200-bar train windows (the
# last 40 validate), 200-bar test windows from bar 250: fold 0 trains on bars 50..249 (before the
# signal) and tests 250..449; fold 1 trains on 250..449 (all after it) and tests 450..649.
# Store seed 4: a model trained on noise still learns a spurious pattern (often momentum, from the
# market's path in its window) whose out-of-sample rank IC against the later signal reaches 0.05 to
# 0.1 on some store seeds (1, 2, 6); on seed 4 it stayed within +-0.03 over 13 variations (training
# seeds, 200 to 1000 steps, an MLP; 0.003 here). The model comparison is the seed-free part.
SIGNAL_FROM=250
LEAK_KEYS="train_bars = 200
valid_bars = 40
test_bars = 200
window = \"rolling\""
for v in signal nosignal; do
  if [[ $v == signal ]]; then SYNTH=(--signal 0.2 --signal-from $SIGNAL_FROM); else SYNTH=(--signal 0); fi
  "${MPIRUN[@]}" -np 2 "$BIN" synth --tickers 300 --days 651 --seed 4 "${SYNTH[@]}" --store "$WORK/$v.h5" >/dev/null
  [[ -z "${FIRST_TEST:-}" ]] && FIRST_TEST=$(bar_date "$WORK/$v.h5" $SIGNAL_FROM)
  job "$WORK/$v" "$WORK/$v.h5" "$LEAK_KEYS
first_test = $FIRST_TEST" 400 100
  expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" features --config "$WORK/$v/job.toml"
  S=$(date +%s)
  expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN" backtest --walk-forward --config "$WORK/$v/job.toml" --no-plot
  echo "leak test backtest ($v, 300 tickers x 651 bars): $(( $(date +%s) - S )) s"
done
/usr/bin/python3 - "$WORK" "$FIRST_TEST" <<'PY'
import hashlib, json, sys, zipfile
work, first_test = sys.argv[1], sys.argv[2]
r = {v: json.load(open(f"{work}/{v}/bt/backtest.json")) for v in ("signal", "nosignal")}
f = r["signal"]["folds"]
assert len(f) == 2, f"{len(f)} folds, expected 2"
assert f[0]["test"]["first"] == first_test and f[0]["train"]["last"] < first_test, f[0]
assert f[1]["train"]["first"] == first_test, f"fold 1 trains from {f[1]['train']['first']}, not from the signal's start"
# Fold 0 never saw a bar from the signal's start on: its model (weights and optimizer state,
# normalization statistics, label scale, validation loss) is the one trained on the store without
# any signal. The checkpoint's tensors are compared as a set of byte strings (a torch zip archive
# stores them in no fixed order).
def state(v):
    ck = r[v]["folds"][0]["checkpoint"]
    s = json.load(open(ck[:-3] + ".json"))["state"]
    z = zipfile.ZipFile(ck)
    tensors = sorted(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if "/data/" in n)
    return tensors, {k: s[k] for k in ("feature_mean", "feature_std", "label_scale", "best_val_loss", "step")}
(w1, s1), (w0, s0) = state("signal"), state("nosignal")
assert s1 == s0, f"fold 0's training state depends on bars after its train window:\n{s1}\n{s0}"
assert len(w1) > 10 and w1 == w0, "fold 0's weights depend on bars after its train window (the stores differ only from the test start on)"
ic0, ic1 = f[0]["oos"]["rank_ic"], f[1]["oos"]["rank_ic"]
print(f"leak test: fold 0 (trained before the signal) out-of-sample rank IC {ic0:.4f}; fold 1 (trained after it) {ic1:.4f}; "
      f"fold 0's model identical without the signal")
assert abs(ic0) < 0.03, f"fold 0 (never saw the signal) has out-of-sample rank IC {ic0:.4f}: lookahead?"
assert ic1 > 0.05, f"fold 1 (trained on the signal) has out-of-sample rank IC {ic1:.4f}"
PY
echo "backtest e2e: $(( $(date +%s) - T0 )) s"
