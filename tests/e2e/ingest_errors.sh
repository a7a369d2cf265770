#!/usr/bin/env bash
# A rank that hits bad input ends a 3-rank job with exit 2, its message, and no store; skip mode.
source "$(dirname "$0")/common.sh"

"$BIN" synth --tickers 30 --days 50 --csv-dir "$WORK/csv" >/dev/null
# The last file (sorted) is parsed by the last of 3 ranks.
last=$(ls "$WORK/csv"/*.csv | sort | tail -1)
sed -i '10s/.*/2010-01-15,12,11,13,12,12,100/' "$last"
start=$(date +%s)
expect_exit 2 timeout 60 "${MPIRUN[@]}" -np 3 "$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5"
(( $(date +%s) - start < 30 )) || fail "failing job took too long"
expect_stderr "$(basename "$last"):10: column 'High': high_below_low"
[[ ! -e "$WORK/s.h5" ]] || fail "store left behind"
ls "$WORK" | grep -q '\.tmp-' && fail "temp file left behind"

expect_exit 0 "${MPIRUN[@]}" -np 3 "$BIN" ingest --input "$WORK/csv" --store "$WORK/s.h5" --on-error skip
grep -q "skipped 1 rows: high_below_low" "$WORK/stdout" || fail "skip summary missing"
"$BIN" inspect "$WORK/s.h5" --json > "$WORK/inspect.json"
/usr/bin/python3 -c "import json,sys; j=json.load(open('$WORK/inspect.json')); assert j['rejected']['high_below_low']==1, j['rejected']"

# Each file-level error exits 2 with file and reason.
printf 'Date,Open,High,Low,Volume\n2020-01-02,1,1,1,1\n' > "$WORK/nocol.csv"
expect_exit 2 "$BIN" ingest --input "$WORK/nocol.csv" --store "$WORK/x.h5"
expect_stderr "nocol.csv:1: column 'Close': missing_column"
: > "$WORK/empty.csv"
expect_exit 2 "$BIN" ingest --input "$WORK/empty.csv" --store "$WORK/x.h5"
expect_stderr "empty_file"
expect_exit 2 "$BIN" ingest --input "$WORK/nope" --store "$WORK/x.h5"
expect_stderr "no such file"
expect_exit 2 "$BIN" ingest --input "$WORK/csv" --store "$WORK/no/dir/x.h5"
expect_stderr "does not exist"
[[ ! -e "$WORK/x.h5" ]] || fail "store left behind"
# Damaged compressed inputs: exit 2 naming file and reason (fail), the file dropped whole (skip).
gzip -c "$(ls "$WORK/csv"/*.csv | sort | head -1)" | head -c 600 > "$WORK/cut.csv.gz"
expect_exit 2 "$BIN" ingest --input "$WORK/cut.csv.gz" --store "$WORK/x.h5"
expect_stderr "cut.csv.gz: corrupt_file: 'gzip: unexpected end of file (truncated?)'"
printf 'not zstd at all' > "$WORK/junk.csv.zst"
mkdir -p "$WORK/mixed" && cp "$WORK/junk.csv.zst" "$WORK/mixed/" && cp "$WORK/csv"/*.csv "$WORK/mixed/"
expect_exit 0 "$BIN" ingest --input "$WORK/mixed" --store "$WORK/mixed.h5" --on-error skip
grep -q "skipped 1 rows: corrupt_file" "$WORK/stdout" || fail "corrupt file not reported under skip"
[[ ! -e "$WORK/x.h5" ]] || fail "store left behind"
# Malformed Parquet (tests/fixtures/parquet): each exits 2 naming file, row or column, and reason.
FIX="${TICKSTREAM_SOURCE_DIR:?}/tests/fixtures/parquet"
expect_exit 2 "$BIN" ingest --input "$FIX/truncated.parquet" --store "$WORK/x.h5"
if grep -q "built without Parquet support" "$WORK/stderr"; then
  echo "ingest_errors: this build has no Parquet input: the malformed-Parquet cases are not run"
else
  expect_stderr "truncated.parquet: corrupt_file"
  expect_exit 2 "$BIN" ingest --input "$FIX/wrong_type.parquet" --store "$WORK/x.h5"
  expect_stderr "wrong_type.parquet: column '[A-Za-z]*': wrong_type: 'string'"
  expect_exit 2 "$BIN" ingest --input "$FIX/null_close.parquet" --store "$WORK/x.h5"
  expect_stderr "null_close.parquet: row [0-9]*: column '[A-Za-z]*': null_value"
  mkdir -p "$WORK/pq" && cp "$FIX/truncated.parquet" "$FIX/AAPL.parquet" "$WORK/pq/"
  expect_exit 0 "$BIN" ingest --input "$WORK/pq" --store "$WORK/pq.h5" --on-error skip
  grep -q "skipped 1 rows: corrupt_file" "$WORK/stdout" || fail "truncated Parquet not reported under skip"
fi
[[ ! -e "$WORK/x.h5" ]] || fail "store left behind"
# Bad options: exit 2 before anything is read.
expect_exit 2 "$BIN" ingest --input "$WORK/csv" --store "$WORK/x.h5" --layout bloomberg
expect_stderr "--layout: 'bloomberg' is not one of auto, yahoo, stooq, polygon-flat"
expect_exit 2 "$BIN" ingest --input "$WORK/csv" --store "$WORK/x.h5" --columns price=Close
expect_stderr "--columns: unknown key 'price'"

# An internal failure mid-collective (injected on rank 1 while the others write) aborts the whole
# job within seconds with exit 1, the rank's message, and no store or temp file.
"$BIN" synth --tickers 40 --days 60 --csv-dir "$WORK/good" >/dev/null
start=$(date +%s)
expect_exit 1 env TICKSTREAM_INJECT_FAULT=ingest_write@1 timeout 60 "${MPIRUN[@]}" -np 3 "$BIN" ingest \
  --input "$WORK/good" --store "$WORK/abort.h5"
(( $(date +%s) - start < 30 )) || fail "aborting job took too long"
expect_stderr "injected fault at ingest_write on rank 1"
[[ ! -e "$WORK/abort.h5" ]] || fail "store left behind after abort"
ls "$WORK" | grep -q '\.tmp-' && fail "temp file left behind after abort"
echo "ingest_errors: ok"
