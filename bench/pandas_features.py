#!/usr/bin/env python3
"""The default feature set (docs/features.md) computed with pandas over a tickstream store: the
peer `bench features` times end to end beside `tickstream features` (process start, imports, the
HDF5 read, the computation, the write of the [tickers, bars, 20] float32 result).

Usage: python3 bench/pandas_features.py STORE.h5 OUT.h5
Wide frames (bars x tickers), rolling windows over the store's axis (gaps = strict-like: a missing
bar is NaN and poisons its windows), EMA/Wilder smoothing with ewm(adjust=False): the same work,
equal to tickstream's values for the window features (the bench checks logret_1, vol_20,
sma_20_rel, range_rel on the bars where both are defined).
"""
import sys

import h5py
import numpy as np
import pandas as pd

NAMES = ["logret_1", "logret_5", "logret_10", "logret_20", "vol_20", "rsi_14", "macd_12_26", "macd_signal_9",
         "bb_pctb_20", "atr_14_rel", "sma_20_rel", "sma_50_rel", "range_rel", "gap", "volume_z_20", "obv_rel_20",
         "clv", "logret_60", "vol_60", "high_20_rel"]


def read(path):
    with h5py.File(path, "r") as f:
        raw = {k: f["raw"][k][...] for k in ("open", "high", "low", "close", "volume")}
        valid = f["raw"]["valid"][...].astype(bool)
        adj = f["raw"]["adj_close"][...] if "adj_close" in f["raw"] else None
    factor = np.where(np.isfinite(adj), adj / raw["close"], 1.0) if adj is not None else 1.0
    frames = {}
    for k in ("open", "high", "low", "close"):
        frames[k] = pd.DataFrame(np.where(valid, raw[k] * factor, np.nan).T)
    frames["volume"] = pd.DataFrame(np.where(valid, raw["volume"], np.nan).T)
    return frames


def features(fr):
    c, o, h, l, v = fr["close"], fr["open"], fr["high"], fr["low"], fr["volume"]
    prev = c.shift(1)
    r = np.log(c / prev)
    out = {}
    for k in (1, 5, 10, 20, 60):
        out[f"logret_{k}"] = np.log(c / c.shift(k))
    out["vol_20"], out["vol_60"] = r.rolling(20).std(), r.rolling(60).std()
    d = c.diff()
    up = d.clip(lower=0).ewm(alpha=1 / 14, adjust=False).mean()
    down = (-d.clip(upper=0)).ewm(alpha=1 / 14, adjust=False).mean()
    out["rsi_14"] = 100 * up / (up + down)
    macd = 100 * (c.ewm(span=12, adjust=False).mean() / c.ewm(span=26, adjust=False).mean() - 1)
    out["macd_12_26"], out["macd_signal_9"] = macd, macd.ewm(span=9, adjust=False).mean()
    m20, sd20 = c.rolling(20).mean(), c.rolling(20).std(ddof=0)
    out["bb_pctb_20"] = (c - (m20 - 2 * sd20)) / (4 * sd20)
    tr = np.maximum(h, prev) - np.minimum(l, prev)
    out["atr_14_rel"] = tr.ewm(alpha=1 / 14, adjust=False).mean() / c
    out["sma_20_rel"], out["sma_50_rel"] = c / m20 - 1, c / c.rolling(50).mean() - 1
    out["range_rel"], out["gap"] = (h - l) / c, o / prev - 1
    x = np.log1p(v)
    out["volume_z_20"] = (x - x.rolling(20).mean()) / x.rolling(20).std()
    out["obv_rel_20"] = (np.sign(d) * v).rolling(20).sum() / v.rolling(20).sum()
    out["clv"] = ((c - l) - (h - c)) / (h - l)
    out["high_20_rel"] = c / h.rolling(20).max() - 1
    return np.stack([out[n].to_numpy(dtype=np.float32).T for n in NAMES], axis=-1)  # [tickers, bars, 20]


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    result = features(read(argv[0]))
    with h5py.File(argv[1], "w", libver="latest") as f:  # superblock v3, as tickstream reads
        f.create_dataset("values", data=result, chunks=(16, 64, 20))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
