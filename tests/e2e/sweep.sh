#!/usr/bin/env bash
# `tickstream sweep` on 2 ranks as 2 groups of 1: a grid of 4 trials of which 2 fail (n_heads 3
# does not divide d_model 16) is recorded whole (results.csv, results.json, best.toml), each trial
# trained by exactly one group and both groups busy; best.toml is a config `train` accepts; a rerun
# retrains nothing; another grid into the same directory, or a group size that does not divide the
# ranks, exits 2. Kill/resume: a sweep SIGKILLed after its first result and rerun ends with every
# result, the ones written before the kill byte-identical, an unfinished trial resumed from its
# checkpoint.
source "$(dirname "$0")/common.sh"
T0=$(date +%s)

"$BIN" synth --tickers 80 --days 400 --seed 7 --signal 0.2 --store "$WORK/s.h5" >/dev/null
cat > "$WORK/base.toml" <<TOML
[data]
store = "$WORK/s.h5"
train_start = 2010-01-04
train_end = 2010-12-31
valid_start = 2011-01-03
valid_end = 2011-07-29
[model]
kind = "gpt"
d_model = 16
n_layers = 1
n_heads = 2
seq_len = 16
[train]
batch_size = 64
max_steps = 60
warmup_steps = 5
eval_every = 30
seed = 1234
checkpoint_dir = "$WORK/base/ckpt"
metrics = "$WORK/base/metrics.jsonl"
tensorboard_dir = "$WORK/base/tb"
TOML
cat > "$WORK/grid.toml" <<'TOML'
[grid]
"model.n_heads" = [2, 3]
"train.lr" = [1e-3, 3e-4]
TOML
expect_exit 0 "$BIN" features --config "$WORK/base.toml"

SWEEP=("${MPIRUN[@]}" -np 2 "$BIN" sweep --config "$WORK/base.toml" --grid "$WORK/grid.toml" --out "$WORK/sw"
       --group-size 1)
expect_exit 0 "${SWEEP[@]}"
cp "$WORK/stdout" "$WORK/sweep1.out"
[[ $(grep -c '^sweep: trial [0-9]* ok on group' "$WORK/stdout") -eq 2 ]] || { cat "$WORK/stdout" >&2; fail "expected 2 'ok' trial lines"; }
[[ $(grep -c '^sweep: trial [0-9]* failed on group' "$WORK/stdout") -eq 2 ]] || { cat "$WORK/stdout" >&2; fail "expected 2 'failed' trial lines"; }
/usr/bin/python3 - "$WORK/sw" "$WORK/sweep1.out" <<'PY'
import csv, json, math, re, sys, tomllib
out = sys.argv[1]
lines = re.findall(r"^sweep: trial (\d+) (ok|failed) on group (\d+)", open(sys.argv[2]).read(), re.M)
assert sorted(int(t) for t, _, _ in lines) == [0, 1, 2, 3], f"trial lines: {lines}"
rows = list(csv.DictReader(open(f"{out}/results.csv")))
assert len(rows) == 4, f"results.csv: {len(rows)} rows, expected 4"
assert [int(r["trial"]) for r in rows] == [0, 1, 2, 3], [r["trial"] for r in rows]
for r in rows:
    if int(r["model.n_heads"]) == 3:
        assert r["status"] == "failed", f"trial {r['trial']} (n_heads 3): status {r['status']}"
        assert "d_model" in r["error"] and "n_heads" in r["error"], f"trial {r['trial']}: error {r['error']!r}"
        assert r["best_val_rank_ic"] == "", f"failed trial {r['trial']} has a rank IC"
    else:
        assert r["status"] == "ok" and r["error"] == "", f"trial {r['trial']}: {r['status']} {r['error']!r}"
        assert math.isfinite(float(r["best_val_rank_ic"])), f"trial {r['trial']}: best_val_rank_ic {r['best_val_rank_ic']}"
        assert int(r["steps"]) == 60, f"trial {r['trial']}: {r['steps']} steps"
        # Trained once: one run's 2 evaluations (steps 30 and 60) in its metrics log.
        steps = [json.loads(x)["step"] for x in open(f"{out}/trial-{int(r['trial']):04d}/metrics.jsonl")]
        assert steps == [30, 60], f"trial {r['trial']}: evaluations at steps {steps}"
# Each trial trained by exactly one group (one result, its group recorded), both groups used.
groups = {}
for t in range(4):
    res = json.load(open(f"{out}/trial-{t:04d}/result.json"))
    assert res["trial"] == t and res["group"] in (0, 1), res
    groups.setdefault(res["group"], []).append(t)
assert len(groups) == 2, f"only group(s) {sorted(groups)} trained trials: {groups}"
j = json.load(open(f"{out}/results.json"))
assert len(j["trials"]) == 4
ok = [t for t in j["trials"] if t["status"] == "ok"]
best = max(ok, key=lambda t: t["best_val_rank_ic"])
assert j["best_trial"] == best["trial"], f"best_trial {j['best_trial']}, expected {best['trial']}"
cfg = tomllib.load(open(f"{out}/best.toml", "rb"))
for key, value in best["keys"].items():
    section, name = key.split(".")
    assert cfg[section][name] == value, f"best.toml {key} = {cfg[section][name]}, trial {best['trial']} has {value}"
print(f"sweep: trials by group {groups}; best trial {best['trial']} {best['keys']} rank IC {best['best_val_rank_ic']:.4f}")
PY
# best.toml is a config train accepts.
expect_exit 0 "$BIN" train --config "$WORK/sw/best.toml" --set train.max_steps=4 --set train.eval_every=4 \
  --set "train.checkpoint_dir=\"$WORK/best/ckpt\"" --set "train.metrics=\"$WORK/best/metrics.jsonl\"" \
  --set "train.tensorboard_dir=\"$WORK/best/tb\""
ls "$WORK/best/ckpt/"ckpt-00000004.pt >/dev/null || fail "training from best.toml left no checkpoint"

# A rerun retrains nothing: the results stay as they are, byte for byte and untouched.
snapshot() { for f in "$1"/trial-*/result.json; do [[ -e "$f" ]] && echo "$f $(stat -c %y "$f") $(md5sum < "$f")"; done; true; }
results() { local n=0 f; for f in "$1"/trial-*/result.json; do [[ -e "$f" ]] && n=$((n + 1)); done; echo "$n"; }
BEFORE=$(snapshot "$WORK/sw")
S=$(date +%s.%N)
expect_exit 0 "${SWEEP[@]}"
RERUN_S=$(/usr/bin/python3 -c "print(round($(date +%s.%N) - $S, 1))")
! grep -q '^sweep: trial' "$WORK/stdout" || { cat "$WORK/stdout" >&2; fail "the rerun trained trials again"; }
grep -q '^sweep: 4 trials recorded (2 failed)' "$WORK/stdout" || { cat "$WORK/stdout" >&2; fail "the rerun did not report the 4 trials"; }
[[ "$(snapshot "$WORK/sw")" == "$BEFORE" ]] || fail "the rerun changed result.json files"
echo "rerun of a finished sweep: $RERUN_S s"

# Another grid (or group size that does not divide the ranks) is refused with exit 2.
cat > "$WORK/grid2.toml" <<'TOML'
[grid]
"train.lr" = [1e-3, 3e-4]
TOML
expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" sweep --config "$WORK/base.toml" --grid "$WORK/grid2.toml" --out "$WORK/sw"
expect_stderr "holds another sweep"
[[ "$(snapshot "$WORK/sw")" == "$BEFORE" ]] || fail "a refused sweep changed result.json files"
expect_exit 2 "${MPIRUN[@]}" -np 2 "$BIN" sweep --config "$WORK/base.toml" --grid "$WORK/grid.toml" --out "$WORK/sw3" \
  --group-size 3
expect_stderr "group-size 3: must divide the 2 ranks"

# Kill/resume: 4 trials of 1200 steps (a checkpoint every 50), SIGKILLed (both ranks and mpirun)
# once a result exists and an unfinished trial has a complete checkpoint (its manifest .json is
# written last); the rerun finishes the sweep. (A release build trains 400 steps in under 2 s:
# the longer trials leave the kill time to land before the trial ends.)
cat > "$WORK/grid4.toml" <<'TOML'
[grid]
"train.lr" = [1e-3, 3e-4]
"train.seed" = [1, 2]
TOML
LONG=("${MPIRUN[@]}" -np 2 "$BIN" sweep --config "$WORK/base.toml" --grid "$WORK/grid4.toml" --out "$WORK/kr"
      --group-size 1 --set train.max_steps=1200 --set train.eval_every=50 --set train.patience=0)
"${LONG[@]}" >"$WORK/kill.out" 2>&1 &
PID=$!
KILLED=""
for _ in $(seq 1 1200); do
  if (($(results "$WORK/kr") >= 1)); then
    for d in "$WORK"/kr/trial-*; do
      # a complete checkpoint at least 100 steps before the end: the trial cannot finish before the kill
      newest=$( (ls "$d/ckpt" 2>/dev/null || true) | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.json$/\1/p' | sort -n | tail -1)
      [[ ! -e "$d/result.json" && -n "$newest" ]] && ((newest <= 1100)) && KILLED="$d" && break
    done
    [[ -n "$KILLED" ]] && break
  fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$KILLED" ]] || { cat "$WORK/kill.out" >&2; fail "no moment with a result and an unfinished, checkpointed trial"; }
# Open MPI puts each rank in a process group of its own: SIGKILL to the ranks and mpirun at once.
RANKS=$(pgrep -P "$PID" | tr '\n' ' ')
[[ $(wc -w <<<"$RANKS") -eq 2 ]] || fail "expected 2 ranks under mpirun, found: $RANKS"
kill -9 $RANKS "$PID"
{ wait "$PID"; } 2>/dev/null || true
for _ in $(seq 1 100); do
  alive=0
  for r in $RANKS; do  # gone, or a zombie
    [[ -e /proc/$r/stat ]] && [[ "$(awk '{print $3}' "/proc/$r/stat" 2>/dev/null)" != Z ]] && alive=1
  done
  ((alive == 0)) && break
  sleep 0.05
done
((alive == 0)) || fail "ranks $RANKS outlived SIGKILL"
[[ ! -e "$KILLED/result.json" ]] || fail "$KILLED finished before the kill landed"
BEFORE=$(snapshot "$WORK/kr")
N_BEFORE=$(results "$WORK/kr")
((N_BEFORE < 4)) || fail "the kill came after every trial had finished"
echo "killed with $N_BEFORE of 4 results; $(basename "$KILLED") unfinished with checkpoint(s) $(ls "$KILLED/ckpt" | grep -c '\.pt$')"
expect_exit 0 "${LONG[@]}"
grep -q "resume: $KILLED/ckpt/ckpt-" "$WORK/stderr" || { cat "$WORK/stderr" >&2; fail "$KILLED was not resumed from its checkpoint"; }
# The results from before the kill are untouched, the others now there.
AFTER=$(snapshot "$WORK/kr")
while read -r line; do
  grep -qxF -- "$line" <<<"$AFTER" || fail "a result from before the kill changed: $line"
done <<<"$BEFORE"
/usr/bin/python3 - "$WORK/kr" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(f"{sys.argv[1]}/results.csv")))
assert len(rows) == 4, f"{len(rows)} results after the resume, expected 4"
for r in rows:
    assert r["status"] == "ok", f"trial {r['trial']}: {r['status']} {r['error']}"
    assert int(r["steps"]) == 1200, f"trial {r['trial']}: {r['steps']} steps"
    assert math.isfinite(float(r["best_val_rank_ic"])), r
print("resumed sweep: 4 trials ok, 1200 steps each")
PY
echo "sweep e2e: $(( $(date +%s) - T0 )) s"
