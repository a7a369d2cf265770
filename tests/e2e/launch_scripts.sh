#!/usr/bin/env bash
# launch/run.sh and launch/multinode.sh: rank count and binding with and without GPUs (GPU count
# injected), NCCL settings passed through, arguments forwarded; a real run of each on this node.
source "$(dirname "$0")/common.sh"
ROOT="${TICKSTREAM_SOURCE_DIR:?}"
export TICKSTREAM_BIN="$BIN"
"$BIN" synth --tickers 20 --days 200 --seed 2 --store "$WORK/s.h5" >/dev/null
printf '[data]\nstore = "%s"\ntrain_start = 2010-01-04\ntrain_end = 2010-06-30\n' "$WORK/s.h5" > "$WORK/job.toml"

dry() { TICKSTREAM_DRY_RUN=1 "$@" 2>/dev/null; }
has() { grep -q -- "$2" <<<"$1" || fail "'$2' missing from: $1"; }

CORES=$(nproc)
OUT=$(env -u CUDA_VISIBLE_DEVICES TICKSTREAM_GPUS=0 bash -c 'TICKSTREAM_DRY_RUN=1 "$0" "$1" features --force 2>/dev/null' "$ROOT/launch/run.sh" "$WORK/job.toml")
has "$OUT" "-np $CORES --bind-to core --map-by core"
has "$OUT" "features --config $WORK/job.toml --force"
OUT=$(TICKSTREAM_GPUS=4 NCCL_DEBUG=WARN dry "$ROOT/launch/run.sh" "$WORK/job.toml" train --resume)
has "$OUT" "-np 4 --bind-to none --map-by slot"
has "$OUT" "-x NCCL_DEBUG"
has "$OUT" "train --config $WORK/job.toml --resume"
OUT=$(env -u TICKSTREAM_GPUS CUDA_VISIBLE_DEVICES=0,1,2 bash -c 'TICKSTREAM_DRY_RUN=1 "$0" "$1" 2>/dev/null' "$ROOT/launch/run.sh" "$WORK/job.toml")
has "$OUT" "-np 3 --bind-to none"
has "$OUT" "train --config"
OUT=$(env -u TICKSTREAM_GPUS CUDA_VISIBLE_DEVICES= bash -c 'TICKSTREAM_DRY_RUN=1 "$0" "$1" 2>/dev/null' "$ROOT/launch/run.sh" "$WORK/job.toml")
has "$OUT" "-np $CORES --bind-to core"
OUT=$(TICKSTREAM_GPUS=0 TICKSTREAM_RANKS=5 dry "$ROOT/launch/run.sh" "$WORK/job.toml" features)
has "$OUT" "-np 5 --bind-to none --oversubscribe"
expect_exit 2 "$ROOT/launch/run.sh" "$WORK/none.toml"
expect_stderr "does not exist"
expect_exit 2 env TICKSTREAM_GPUS=two "$ROOT/launch/run.sh" "$WORK/job.toml"

printf '# test\nnodeA slots=4\nnodeB slots=4\n\nnodeC\n' > "$WORK/hosts"
OUT=$(TICKSTREAM_IFNAME=ib0 dry "$ROOT/launch/multinode.sh" "$WORK/hosts" "$WORK/job.toml" predict --asof 2010-06-30)
has "$OUT" "-np 9 --hostfile $WORK/hosts --bind-to none --map-by slot"
has "$OUT" "btl_tcp_if_include ib0 --mca oob_tcp_if_include ib0"
has "$OUT" "-x NCCL_SOCKET_IFNAME"
has "$OUT" "predict --config $WORK/job.toml --asof 2010-06-30"

# Real runs on this node: features at 2 CPU ranks through each script.
expect_exit 0 env TICKSTREAM_GPUS=0 TICKSTREAM_RANKS=2 "$ROOT/launch/run.sh" "$WORK/job.toml" features
grep -q "features: 20 tickers" "$WORK/stdout" || fail "run.sh: no features summary"
echo "localhost slots=2" > "$WORK/local"
expect_exit 0 "$ROOT/launch/multinode.sh" "$WORK/local" "$WORK/job.toml" features --force
grep -q "features: 20 tickers" "$WORK/stdout" || fail "multinode.sh: no features summary"
echo "launch scripts OK"
