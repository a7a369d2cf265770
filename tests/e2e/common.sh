# Shared helpers for the e2e scripts: $1 = tickstream binary, $2 = scratch directory.
set -euo pipefail
BIN="$1"
WORK="$2"
rm -rf "$WORK"
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe --bind-to none)

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD...: runs CMD with stderr captured in $WORK/stderr, checks its exit code.
expect_exit() {
  local want="$1"; shift
  set +e
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  local got=$?
  set -e
  [[ $got -eq $want ]] || { cat "$WORK/stderr" >&2; fail "exit $got, expected $want: $*"; }
}

expect_stderr() { grep -q -- "$1" "$WORK/stderr" || { cat "$WORK/stderr" >&2; fail "stderr lacks '$1'"; }; }

# small_job TRAIN_AND_MORE [DIR]: DIR/job.toml for DIR/s.h5 (DIR: $WORK by default; a 2010 daily
# store): the 2010 training and validation periods, a one-layer 16-wide GPT, then the caller's
# [train] (and other) sections.
small_job() {
  local dir="${2:-$WORK}"
  mkdir -p "$dir"
  cat > "$dir/job.toml" <<TOML
[data]
store = "$dir/s.h5"
train_start = 2010-01-04
train_end = 2010-09-30
valid_start = 2010-10-01
valid_end = 2010-12-31
[model]
kind = "gpt"
d_model = 16
n_layers = 1
n_heads = 2
seq_len = 16
$1
TOML
}

# small_model: the model the prediction tests score with: $WORK/s.h5 (40 synthetic tickers, 330
# days, with features), $WORK/job.toml, 6 training steps into $WORK/ckpt. Sets LAST (the store's
# last bar time) and P (predict's arguments up to the date).
small_model() {
  "$BIN" synth --tickers 40 --days 330 --seed 9 --signal 0.2 --store "$WORK/s.h5" >/dev/null
  small_job "[train]
batch_size = 32
max_steps = 6
eval_every = 6
checkpoint_dir = \"$WORK/ckpt\"
metrics = \"$WORK/metrics.jsonl\"
tensorboard_dir = \"$WORK/tb\"
[predict]
batch_size = 8"
  expect_exit 0 "$BIN" features --config "$WORK/job.toml"
  expect_exit 0 "$BIN" train --config "$WORK/job.toml"
  LAST=$("$BIN" inspect "$WORK/s.h5" --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['last_time'])")
  P=(predict --config "$WORK/job.toml" --checkpoint "$WORK/ckpt")
}
