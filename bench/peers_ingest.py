#!/usr/bin/env python3
"""pyarrow / polars peers of `tickstream ingest`: OHLCV inputs into a store with h5py.

Usage: peers_ingest.py --engine pyarrow|polars --format csv|parquet|csv.gz|long-csv|long-parquet IN OUT.h5
  -> prints one JSON object {seconds, rows, tickers, bars, engine, format, read_index_s, scatter_write_s}
     (read_index_s: reading and the calendar / ticker positions; scatter_write_s: the [N, T] arrays and h5py).

IN is a directory of per-ticker files (csv: *.csv, parquet: *.parquet, csv.gz: *.csv.gz; the ticker is
the file name) or, for the long formats, one file with a ticker column (as bench/make_ingest_inputs.py
writes them). What a quant would write with each library, using its default multithreading:

  pyarrow  per-ticker: pyarrow.csv.read_csv / pyarrow.parquet.read_table per file (read_csv
           decompresses .gz itself), concat_tables; long: one read_csv / read_table. Calendar and
           ticker list with pyarrow.compute (unique, sort, index_in).
  polars   per-ticker: pl.scan_csv (also .csv.gz, which it decompresses) / pl.scan_parquet over the
           glob with include_file_paths (polars reads the files in parallel); long: pl.read_csv /
           pl.read_parquet. Calendar and ticker list with unique().sort(), positions with search_sorted.

Then, for both: scatter into [N, T] float64 numpy arrays (NaN holes) and write with h5py the same
store as bench/pandas_ingest.py (meta/time int64 seconds, meta/tickers fixed-length bytes,
raw/{open,high,low,close,adj_close,volume} float64 and raw/valid uint8 [N, T], chunks (16, 4096)
capped, Fletcher32) plus what docs/store-format.md requires of a store v1 and pandas_ingest.py
leaves out: root attributes format/version/frequency, a superblock of version >= 2 (libver 1.8 ..
1.10), meta/time one checksummed chunk. So `tickstream inspect`/compare_stores read it, and the
bench verifies it bit for bit against the synth store.

Not done (tickstream ingest does it): row validation (positive prices, High >= Low, ...),
rejection of duplicate (ticker, time) rows (here the last one wins), per-row error messages.
The timing covers reading, reshaping and writing; imports are start-up and not timed.
"""
import argparse
import glob
import json
import os
import sys
import time

FIELDS = ["open", "high", "low", "close", "adj_close", "volume"]
FORMATS = ["csv", "parquet", "csv.gz", "long-csv", "long-parquet"]
SUFFIX = {"csv": ".csv", "parquet": ".parquet", "csv.gz": ".csv.gz"}
DAY = 86400
# The numeric columns read as float64 (the store's type), in both spellings: a per-file type guess
# would make Volume int64 in one file and float64 in the next (synth prints a few whole volumes as
# "5e+05"), which polars' multi-file scan rejects.
NUMERIC = ["Open", "High", "Low", "Close", "Adj Close", "Volume"] + FIELDS


def normalize(name):
    """'Adj Close' -> 'adj_close', 'Date' -> 'date' (yfinance headers and the long table's alike)."""
    return name.strip().lower().replace(" ", "_")


def per_ticker_files(directory, fmt):
    suffix = SUFFIX[fmt]
    files = sorted(glob.glob(os.path.join(glob.escape(directory), "*" + suffix)))
    if not files:
        sys.exit(f"peers_ingest.py: no *{suffix} files in {directory}")
    return [(os.path.basename(f)[: -len(suffix)], f) for f in files]


def frequency(time_s):
    """As tickstream's infer_frequency: '1d' for midnight stamps, else the smallest step."""
    import numpy as np

    steps = np.diff(time_s)
    step = int(steps.min()) if len(steps) else 0
    if step == 0 or bool(np.all(time_s % DAY == 0)):
        return "1mo" if step >= 28 * DAY else "1w" if step >= 7 * DAY else "1d"
    if step % 3600 == 0:
        return f"{step // 3600}h"
    return f"{step // 60}min" if step % 60 == 0 else f"{step}s"


# ---------------------------------------------------------------------------------------- pyarrow

def arrow_seconds(col):
    """A date32 / date64 / timestamp / integer column as int64 seconds since the epoch (numpy)."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_date32(col.type):
        return col.cast(pa.int32()).to_numpy().astype(np.int64) * DAY
    if pa.types.is_date64(col.type) or pa.types.is_timestamp(col.type):
        return col.cast(pa.timestamp("s")).cast(pa.int64()).to_numpy()
    raise SystemExit(f"peers_ingest.py: date column of type {col.type}")


def read_pyarrow(fmt, path):
    """-> (table with normalized names, ticker index per row or None, sorted tickers)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    csv_types = pacsv.ConvertOptions(column_types={c: pa.float64() for c in NUMERIC})

    def read_one(f):
        t = pq.read_table(f) if f.endswith(".parquet") else pacsv.read_csv(f, convert_options=csv_types)
        return t.rename_columns([normalize(c) for c in t.column_names])

    if fmt.startswith("long-"):
        table = read_one(path)
        uniq = pc.unique(table["ticker"])
        tickers = uniq.take(pc.sort_indices(uniq))
        index = pc.index_in(table["ticker"], value_set=tickers).to_numpy()
        return table, index, tickers.to_pylist()
    files = per_ticker_files(path, fmt)
    tables = [read_one(f) for _, f in files]
    names = tables[0].column_names
    tables = [t.select(names) for t in tables]
    # promote_options: a file whose Volume is all integers next to one with a float volume
    table = pa.concat_tables(tables, promote_options="permissive")
    counts = np.array([t.num_rows for t in tables])
    order = sorted(range(len(files)), key=lambda i: files[i][0].encode())
    rank = np.empty(len(files), dtype=np.int64)
    rank[order] = np.arange(len(files))
    return table, np.repeat(rank, counts), [files[i][0] for i in order]


def columns_pyarrow(fmt, path):
    import numpy as np
    import pyarrow.compute as pc

    table, tick, tickers = read_pyarrow(fmt, path)
    cal = pc.unique(table["date"])
    cal = cal.take(pc.sort_indices(cal))
    tidx = pc.index_in(table["date"], value_set=cal).to_numpy()
    values = {k: table[k].to_numpy().astype(np.float64, copy=False) for k in FIELDS if k in table.column_names}
    return tickers, arrow_seconds(cal), tick, tidx, values, table.num_rows


# ----------------------------------------------------------------------------------------- polars

def read_polars(fmt, path):
    import polars as pl

    types = {c: pl.Float64 for c in NUMERIC}  # names the file lacks are ignored

    if fmt == "long-csv":
        return pl.read_csv(path, try_parse_dates=True, schema_overrides=types)
    if fmt == "long-parquet":
        return pl.read_parquet(path)
    per_ticker_files(path, fmt)  # exits when there are none
    pattern = os.path.join(glob.escape(path), "*" + SUFFIX[fmt])
    scan = (pl.scan_parquet(pattern, include_file_paths="path") if fmt == "parquet" else  # csv, csv.gz
            pl.scan_csv(pattern, try_parse_dates=True, schema_overrides=types, include_file_paths="path"))
    suffix = SUFFIX[fmt].replace(".", r"\.")
    return scan.with_columns(pl.col("path").str.extract(r"([^/]+)" + suffix + "$").alias("ticker")).collect()


def columns_polars(fmt, path):
    import numpy as np
    import polars as pl

    df = read_polars(fmt, path)
    df = df.rename({c: normalize(c) for c in df.columns})
    tickers = df["ticker"].unique().sort()
    dates = df["date"]
    if dates.dtype == pl.Date:
        seconds = dates.cast(pl.Int32).cast(pl.Int64) * DAY
    elif dates.dtype == pl.Datetime:
        seconds = dates.dt.epoch("s")
    else:
        sys.exit(f"peers_ingest.py: date column of type {dates.dtype}")
    cal = seconds.unique().sort()
    tick = tickers.search_sorted(df["ticker"]).to_numpy()
    tidx = cal.search_sorted(seconds).to_numpy()
    values = {k: df[k].cast(pl.Float64).to_numpy() for k in FIELDS if k in df.columns}
    return tickers.to_list(), cal.to_numpy(), tick, tidx, values, df.height


# ------------------------------------------------------------------------------------- the store

def write_store(out, tickers, cal, tick, tidx, values):
    import h5py
    import numpy as np

    n, T = len(tickers), len(cal)
    flat = tick.astype(np.int64) * T + tidx.astype(np.int64)
    chunk = (min(16, n), min(4096, T))
    # libver 1.8 .. 1.10: superblock v2 (checksummed, as StoreReader requires), readable by HDF5 1.10
    with h5py.File(out, "w", libver=("v108", "v110")) as h:
        h.attrs["format"] = "tickstream.store"
        h.attrs["version"] = np.int64(1)
        h.attrs["frequency"] = frequency(cal)
        h.create_dataset("meta/time", data=cal.astype(np.int64), chunks=(T,), fletcher32=True)
        h["meta/tickers"] = np.array([t.encode() for t in tickers], dtype="S")
        for k in FIELDS:
            if k not in values:
                continue  # adj_close is optional
            a = np.full(n * T, np.nan)
            a[flat] = values[k]
            h.create_dataset("raw/" + k, data=a.reshape(n, T), chunks=chunk, fletcher32=True)
        valid = np.zeros(n * T, dtype=np.uint8)
        valid[flat] = 1
        h.create_dataset("raw/valid", data=valid.reshape(n, T), chunks=chunk, fletcher32=True)
    return n, T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", choices=["pyarrow", "polars"], required=True)
    ap.add_argument("--format", choices=FORMATS, required=True)
    ap.add_argument("input")
    ap.add_argument("out")
    a = ap.parse_args()
    import h5py  # noqa: F401  (start-up, untimed)
    import numpy  # noqa: F401
    if a.engine == "pyarrow":
        import pyarrow.compute  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import pyarrow.parquet  # noqa: F401
        columns = columns_pyarrow
    else:
        import polars  # noqa: F401
        columns = columns_polars
    t0 = time.perf_counter()
    tickers, cal, tick, tidx, values, rows = columns(a.format, a.input)
    t1 = time.perf_counter()
    n, T = write_store(a.out, tickers, cal, tick, tidx, values)
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t0, "rows": rows, "tickers": n, "bars": T, "engine": a.engine,
                      "format": a.format, "read_index_s": t1 - t0, "scatter_write_s": t2 - t1}))


if __name__ == "__main__":
    main()
