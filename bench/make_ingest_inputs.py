#!/usr/bin/env python3
"""The other input formats of `tickstream bench ingest`, made from synth's per-ticker CSV directory.

Usage: make_ingest_inputs.py SRC_CSV_DIR OUT_DIR [--only parquet,gz,long]
       make_ingest_inputs.py --probe OUT.parquet
  -> prints one JSON object (byte sizes, row and ticker counts, the types chosen, seconds).

SRC_CSV_DIR holds <TICKER>.csv files as `tickstream synth --csv-dir` writes them (header
Date,Open,High,Low,Close,Adj Close,Volume; the Adj Close column is optional). Written:

  OUT_DIR/parquet/<TICKER>.parquet  one file per ticker, the CSV's columns and names. Date is date32
                                    (days since 1970) when every Date is a plain YYYY-MM-DD (daily
                                    sessions), else timestamp[s, UTC]; prices float64; Volume int64
                                    when every volume of the input is a whole number (synth's are;
                                    a few are printed like 5e+05), else float64. pyarrow.parquet defaults (snappy, dictionary encoding),
                                    one row group per file.
  OUT_DIR/gz/<TICKER>.csv.gz        gzip level 6 of exactly the CSV's bytes (mtime 0, no file name).
  OUT_DIR/long/all.csv              one long table, header date,ticker,open,high,low,close,adj_close,volume,
                                    rows ordered by date then ticker (byte order); every date and number
                                    is the source's text, unchanged, so it parses to the same doubles.
  OUT_DIR/long/all.parquet          the same rows, typed as the per-ticker Parquet files, ticker a
                                    string column, row groups of 256Ki rows.

synth.json (the synth sidecar), when SRC_CSV_DIR has one, is copied into each output directory, so
`tickstream ingest` of any format marks the store synthetic exactly as for the CSV directory.

--probe writes a three-row per-ticker Parquet file (the bench ingests it to learn whether the
tickstream binary reads Parquet at all). gz needs only the standard library; parquet, long and
--probe need pyarrow.
"""
import argparse
import concurrent.futures
import glob
import gzip
import json
import os
import shutil
import time

LONG_ROW_GROUP = 256 * 1024
SIDECAR = "synth.json"
PRICE_COLUMNS = ["Open", "High", "Low", "Close", "Adj Close"]
LONG_NAMES = {"Date": "date", "Open": "open", "High": "high", "Low": "low", "Close": "close",
              "Adj Close": "adj_close", "Volume": "volume"}


def sources(src):
    files = sorted(glob.glob(os.path.join(src, "*.csv")))
    if not files:
        raise SystemExit(f"make_ingest_inputs.py: no *.csv files in {src}")
    return [(os.path.splitext(os.path.basename(f))[0], f) for f in files]


def copy_sidecar(src, out):
    side = os.path.join(src, SIDECAR)
    if os.path.exists(side):
        shutil.copyfile(side, os.path.join(out, SIDECAR))


def dir_bytes(d, suffix):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(suffix))


def write_gz(files, src, out):
    d = os.path.join(out, "gz")
    os.makedirs(d, exist_ok=True)

    def one(item):
        ticker, path = item
        with open(path, "rb") as f:
            data = f.read()
        with open(os.path.join(d, ticker + ".csv.gz"), "wb") as f:
            f.write(gzip.compress(data, compresslevel=6, mtime=0))  # zlib releases the GIL

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(one, files))
    copy_sidecar(src, d)
    return {"gz_bytes": dir_bytes(d, ".csv.gz")}


def read_text_tables(files):
    """Every CSV with all columns as strings (the exact source text), in file order."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    tables = []
    for _, path in files:
        with open(path, "rb") as f:
            header = f.readline().decode().strip().split(",")
        opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=False)
        tables.append(pacsv.read_csv(path, convert_options=opts))
    names = tables[0].column_names
    for (ticker, _), t in zip(files, tables):
        if t.column_names != names:
            raise SystemExit(f"make_ingest_inputs.py: {ticker}.csv has columns {t.column_names}, not {names}")
    return tables


def choose_types(text):
    """date32 for plain dates, else timestamp[s, UTC]; Volume int64 when every value is a whole number.

    synth prints volumes with the shortest round-trip text, so a few whole volumes read "5e+05"
    (36 of 4.7 M rows at 2000 x 2520): the test is on the value, not on the text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain_dates = pc.all(pc.match_substring_regex(text["Date"], r"^\d{4}-\d{2}-\d{2}$")).as_py()
    v = text["Volume"].cast(pa.float64())
    whole = pc.all(pc.and_(pc.equal(v, pc.floor(v)), pc.less(pc.abs(v), 2.0**53))).as_py()
    return (pa.date32() if plain_dates else pa.timestamp("s", tz="UTC"), pa.int64() if whole else pa.float64())


def typed(text, date_type, volume_type):
    """The string table cast to the Parquet types (Arrow's string->double cast is exact, as read_csv's)."""
    import pyarrow as pa

    cols, names = [], []
    for name in text.column_names:
        col = text[name]
        if name == "Date":
            col = col.cast(date_type)
        elif name == "Volume":
            col = col.cast(pa.float64()).cast(volume_type)  # "5e+05" -> 500000 (a checked cast)
        elif name in PRICE_COLUMNS:
            col = col.cast(pa.float64())
        cols.append(col)
        names.append(name)
    return pa.table(cols, names=names)


def write_parquet_and_long(files, src, out, only):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    texts = read_text_tables(files)
    all_text = pa.concat_tables(texts)
    date_type, volume_type = choose_types(all_text)
    result = {"date_type": str(date_type), "volume_type": str(volume_type), "rows": all_text.num_rows,
              "tickers": len(files)}
    if "parquet" in only:
        d = os.path.join(out, "parquet")
        os.makedirs(d, exist_ok=True)
        for (ticker, _), t in zip(files, texts):
            pq.write_table(typed(t, date_type, volume_type), os.path.join(d, ticker + ".parquet"))
        copy_sidecar(src, d)
        result["parquet_bytes"] = dir_bytes(d, ".parquet")
    if "long" in only:
        d = os.path.join(out, "long")
        os.makedirs(d, exist_ok=True)
        tickers = pa.chunked_array([pa.array([ticker] * t.num_rows, pa.string()) for (ticker, _), t in zip(files, texts)])
        names = [LONG_NAMES[c] for c in all_text.column_names]
        text = pa.table([all_text["Date"], tickers] + [all_text[c] for c in all_text.column_names[1:]],
                        names=[names[0], "ticker"] + names[1:])
        values = typed(all_text, date_type, volume_type)
        values = pa.table([values["Date"], tickers] + [values[c] for c in all_text.column_names[1:]],
                          names=text.column_names)
        order = pc.sort_indices(values, sort_keys=[("date", "ascending"), ("ticker", "ascending")])
        with open(os.path.join(d, "all.csv"), "wb") as f:  # pyarrow would quote the header's names
            f.write((",".join(text.column_names) + "\n").encode())
            pacsv.write_csv(text.take(order), f,
                            write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
        pq.write_table(values.take(order), os.path.join(d, "all.parquet"), row_group_size=LONG_ROW_GROUP)
        copy_sidecar(src, d)
        result["long_csv_bytes"] = os.path.getsize(os.path.join(d, "all.csv"))
        result["long_parquet_bytes"] = os.path.getsize(os.path.join(d, "all.parquet"))
        result["long_row_groups"] = pq.ParquetFile(os.path.join(d, "all.parquet")).num_row_groups
    return result


def write_probe(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pq.write_table(pa.table({
        "Date": pa.array([18263, 18264, 18267], pa.date32()),  # 2020-01-02, 03, 06
        "Open": [10.0, 10.5, 10.2], "High": [11.0, 10.9, 10.8], "Low": [9.5, 10.1, 10.0],
        "Close": [10.5, 10.2, 10.6], "Volume": pa.array([1000, 1200, 900], pa.int64())}), path)
    print(json.dumps({"probe": path, "bytes": os.path.getsize(path)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--only", default="parquet,gz,long", help="comma list of parquet, gz, long")
    ap.add_argument("--probe", help="write a tiny per-ticker Parquet file here and exit")
    a = ap.parse_args()
    if a.probe:
        return write_probe(a.probe)
    if not a.src or not a.out:
        ap.error("SRC_CSV_DIR and OUT_DIR are required")
    only = {x for x in a.only.split(",") if x}
    unknown = only - {"parquet", "gz", "long"}
    if unknown:
        ap.error(f"--only: unknown {sorted(unknown)}")
    t0 = time.perf_counter()
    files = sources(a.src)
    result = {"csv_bytes": sum(os.path.getsize(p) for _, p in files), "files": len(files)}
    if "gz" in only:
        result.update(write_gz(files, a.src, a.out))
    if only & {"parquet", "long"}:
        result.update(write_parquet_and_long(files, a.src, a.out, only))
    result["seconds"] = time.perf_counter() - t0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
