#!/usr/bin/python3
"""pandas + h5py peer of `tickstream ingest`: the same per-ticker CSV files into [N, T] arrays.

Usage: pandas_ingest.py CSV_DIR OUT.h5  -> prints one JSON object {seconds, rows, tickers, bars}.
Does what a typical Python pipeline does: read_csv with date parsing per file, calendar = union
of dates, reindex every ticker onto it, write float64 [N, T] datasets with h5py (chunked,
fletcher32, like the store).
"""
import glob
import json
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd


def main():
    csv_dir, out = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    files = sorted(glob.glob(os.path.join(csv_dir, "*.csv")))
    frames = {}
    rows = 0
    for f in files:
        df = pd.read_csv(f, parse_dates=["Date"], index_col="Date")
        frames[os.path.splitext(os.path.basename(f))[0]] = df
        rows += len(df)
    tickers = sorted(frames)
    calendar = frames[tickers[0]].index
    for t in tickers[1:]:
        calendar = calendar.union(frames[t].index)
    n, T = len(tickers), len(calendar)
    cols = {"open": "Open", "high": "High", "low": "Low", "close": "Close",
            "adj_close": "Adj Close", "volume": "Volume"}
    arrays = {k: np.full((n, T), np.nan) for k in cols}
    valid = np.zeros((n, T), dtype=np.uint8)
    for i, t in enumerate(tickers):
        df = frames[t].reindex(calendar)
        for k, c in cols.items():
            arrays[k][i] = df[c].to_numpy()
        valid[i] = df["Close"].notna().to_numpy()
    with h5py.File(out, "w") as h:
        h["meta/time"] = (calendar.asi8 // 10**9).astype(np.int64)
        h["meta/tickers"] = np.array(tickers, dtype="S")
        chunk = (min(16, n), min(4096, T))
        for k, a in arrays.items():
            h.create_dataset("raw/" + k, data=a, chunks=chunk, fletcher32=True)
        h.create_dataset("raw/valid", data=valid, chunks=chunk, fletcher32=True)
    print(json.dumps({"seconds": time.perf_counter() - t0, "rows": rows, "tickers": n, "bars": T}))


if __name__ == "__main__":
    main()
