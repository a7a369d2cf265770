# Helpers for the e2e tests that run jobs on the local cluster (tests/e2e/slurm_*.sh); sourced
# after tests/e2e/common.sh (BIN, WORK, fail). Not for production use.
#
# slurm_up: starts the local cluster unless one answers already (stopped again on exit if this
# test started it); exits 77 with "SKIP: ..." when Slurm cannot run here (not root, no packages).
# slurm_wait_jobs TIMEOUT_S ID...: waits until the jobs have left the queue (fails on timeout).
# slurm_job_field ID FIELD: a field of `scontrol show job` (JobState, ExitCode, Restarts, ...).
# slurm_expect_completed ID...: each job COMPLETED with exit code 0:0.

SLURM_DIR_="$TICKSTREAM_SOURCE_DIR/slurm"
SLURM_STARTED_=0
SLURM_JOBS_=()

slurm_skip() { echo "SKIP: $*"; exit 77; }

# On failure: what the jobs and the daemons said. On exit: cancel leftover jobs, stop the cluster
# if this test started it.
slurm_cleanup_() {
  local rc=$? f
  trap - EXIT
  if ((rc != 0 && rc != 77)); then
    echo "---- slurm state at failure (exit $rc)" >&2
    squeue 2>&1 | head -n 20 >&2 || true
    for f in "$WORK"/logs/*.out; do [[ -f "$f" ]] && { echo "---- $f" >&2; tail -n 40 "$f" >&2; }; done
    for f in "${TICKSTREAM_SLURM_DIR:-/tmp/tickstream-slurm}"/log/*.log; do
      [[ -f "$f" ]] && { echo "---- $f" >&2; tail -n 15 "$f" >&2; }
    done
  fi
  if ((${#SLURM_JOBS_[@]} > 0)); then scancel "${SLURM_JOBS_[@]}" 2>/dev/null || true; fi
  if ((SLURM_STARTED_)); then "$SLURM_DIR_/local-cluster/stop.sh" || true; fi
  exit "$rc"
}

slurm_up() {
  [[ $(id -u) -eq 0 ]] || slurm_skip "the local Slurm cluster needs root"
  local b
  for b in munged slurmctld slurmd sbatch; do
    command -v "$b" >/dev/null || slurm_skip "$b not installed (launch/install-deps.sh installs slurm-wlm munge)"
  done
  export SLURM_CONF="${TICKSTREAM_SLURM_DIR:-/tmp/tickstream-slurm}/etc/slurm.conf"
  trap slurm_cleanup_ EXIT
  if [[ -f "$SLURM_CONF" ]] && timeout 10 sinfo -h >/dev/null 2>&1; then
    echo "local cluster already running ($SLURM_CONF)"
    return
  fi
  local rc=0
  SLURM_CONF="$("$SLURM_DIR_/local-cluster/start.sh")" || rc=$?
  ((rc != 3)) || slurm_skip "local-cluster/start.sh: a prerequisite is missing (see above)"
  ((rc == 0)) || fail "local-cluster/start.sh failed (exit $rc)"
  SLURM_STARTED_=1
  export SLURM_CONF
}

# slurm_wait_step JOB LOG STEP STEPS: waits (240 s at most) until training job JOB's log LOG shows
# step STEP of STEPS; fails when the job ends first.
slurm_wait_step() {
  local deadline=$((SECONDS + 240))
  until [[ -f "$2" ]] && grep -q "info step $3/$4" "$2"; do
    [[ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]] || fail "train job $1 ended before it reached step $3"
    ((SECONDS < deadline)) || fail "train job $1 did not reach step $3 within 240 s"
    sleep 0.5
  done
}

# slurm_track ID...: jobs to cancel if the test fails.
slurm_track() { SLURM_JOBS_+=("$@"); }

slurm_job_field() {
  scontrol show job "$1" -o 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

slurm_wait_jobs() {
  local timeout_s="$1"; shift
  local deadline=$((SECONDS + timeout_s)) ids
  ids="$(IFS=,; echo "$*")"
  while [[ -n "$(squeue -h -j "$ids" -o %i 2>/dev/null)" ]]; do
    ((SECONDS < deadline)) || fail "jobs $ids still queued or running after $timeout_s s"
    sleep 1
  done
}

slurm_expect_completed() {
  local id state code
  for id in "$@"; do
    state="$(slurm_job_field "$id" JobState)"
    code="$(slurm_job_field "$id" ExitCode)"
    [[ "$state" == COMPLETED && "$code" == 0:0 ]] || fail "job $id ($(slurm_job_field "$id" JobName)): state $state, exit code $code"
  done
}

# slurm_write_config PATH MAX_STEPS D_MODEL N_LAYERS SEQ_LEN BATCH: a small quickstart-like job
# for `synth --days 320` (2010-01-04 .. 2011-03-25) with every path under $WORK.
slurm_write_config() {
  cat >"$1" <<EOF
[data]
store = "$WORK/store.h5"
shard = "tickers"
train_start = 2010-01-04
train_end = 2010-12-31
valid_start = 2011-01-03
valid_end = 2011-03-31
test_start = 2011-04-01

[features]
horizon = 1

[model]
kind = "gpt"
d_model = $3
n_layers = $4
n_heads = 2
seq_len = $5
dropout = 0.1

[train]
batch_size = $6
epochs = 100
max_steps = $2
lr = 1e-3
warmup_steps = 10
eval_every = 50
seed = 1234
checkpoint_dir = "$WORK/ckpt"
metrics = "$WORK/metrics.jsonl"
tensorboard_dir = "$WORK/tb"

[dist]
timeout_s = 120
EOF
}

# slurm_check_predictions CSV STORE: every ticker of STORE is scored or skipped exactly once, at
# one as-of date, and the scored ones are ranked 1..n.
slurm_check_predictions() {
  "$BIN" inspect "$2" --json >"$WORK/inspect.json"
  /usr/bin/python3 - "$1" "${1%.csv}.skipped.csv" "$WORK/inspect.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
skipped = list(csv.DictReader(open(sys.argv[2])))
tickers = [t["ticker"] for t in json.load(open(sys.argv[3]))["per_ticker"]]
scored = [r["ticker"] for r in rows]
left_out = [r["ticker"] for r in skipped]
assert len(scored) == len(set(scored)), "a ticker scored twice"
assert not set(scored) & set(left_out), f"scored and skipped: {set(scored) & set(left_out)}"
assert sorted(scored + left_out) == sorted(tickers), \
    f"tickers neither scored nor skipped: {sorted(set(tickers) - set(scored) - set(left_out))}"
assert len(rows) >= len(tickers) // 2, f"only {len(rows)} of {len(tickers)} tickers scored"
assert sorted(int(r["rank"]) for r in rows) == list(range(1, len(rows) + 1)), "ranks are not 1..n"
assert len({r["asof"] for r in rows + skipped}) == 1, "more than one as-of date"
assert all(r["model_id"] for r in rows) and all(r["reason"] for r in skipped)
for r in rows:
    float(r["pred_return"]); assert 0.0 <= float(r["prob_up"]) <= 1.0
print(f"predictions: {len(rows)} scored (ranks 1..{len(rows)}), {len(skipped)} skipped, of {len(tickers)} tickers")
PY
}
