#!/usr/bin/env python3
# Plots a training metrics .jsonl (docs/outputs.md): losses and validation IC / rank IC vs step.
"""Usage: /usr/bin/python3 launch/plot_metrics.py METRICS.jsonl OUT.png [--oracle-ic X]

Top panel: train loss and val_loss vs step. Bottom panel: val_ic and val_rank_ic vs step, and a
dashed line at the oracle IC when given. null values (undefined metrics) leave gaps. Blank lines
are ignored. Exit codes: 0 ok, 2 bad input (the message names FILE:LINE), 1 anything else.
The PNG is written under a temporary name and renamed into place.
"""
import argparse
import json
import math
import os
import sys

from plot_common import InputProblem, save_atomically  # launch/plot_common.py, beside this script

REQUIRED = ("step", "loss", "val_loss", "val_ic", "val_rank_ic")


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Plot a tickstream metrics .jsonl file.")
    parser.add_argument("metrics", help="metrics .jsonl written by tickstream train")
    parser.add_argument("out", help="output PNG path")
    parser.add_argument("--oracle-ic", type=float, default=None,
                        help="draw a horizontal line at this IC (e.g. inspect --json oracle_ic)")
    return parser.parse_args(argv)


def number(record, key, where):
    """The record's value for key as a float (NaN for null); InputProblem when absent or not a number."""
    if key not in record:
        raise InputProblem(f"{where}: missing key '{key}'")
    value = record[key]
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputProblem(f"{where}: key '{key}' is not a number: {value!r}")
    return float(value)


def read_metrics(path):
    """Columns {key: [values]} of the records in path, in file order."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputProblem(f"{path}: cannot read: {e}") from e
    columns = {key: [] for key in REQUIRED}
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputProblem(f"{where}: bad JSON: {e.msg}") from e
        if not isinstance(record, dict):
            raise InputProblem(f"{where}: not a JSON object")
        for key in REQUIRED:
            columns[key].append(number(record, key, where))
    if not columns["step"]:
        raise InputProblem(f"{path}: no records")
    return columns


def draw(columns, oracle_ic, title):
    """The two-panel figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = columns["step"]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 7))
    top.plot(steps, columns["loss"], marker=".", label="train loss")
    top.plot(steps, columns["val_loss"], marker=".", label="val_loss")
    top.set_ylabel("loss")
    top.set_title(title)
    top.legend()
    top.grid(alpha=0.3)
    bottom.plot(steps, columns["val_ic"], marker=".", label="val_ic")
    bottom.plot(steps, columns["val_rank_ic"], marker=".", label="val_rank_ic")
    if oracle_ic is not None:
        bottom.axhline(oracle_ic, color="gray", linestyle="--", label=f"oracle IC {oracle_ic:.3g}")
    bottom.axhline(0.0, color="black", linewidth=0.5)
    bottom.set_xlabel("step")
    bottom.set_ylabel("IC")
    bottom.legend()
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(argv):
    args = parse_args(argv)
    try:
        columns = read_metrics(args.metrics)
        try:
            fig = draw(columns, args.oracle_ic, os.path.basename(args.metrics))
        except ImportError as e:
            print(f"plot_metrics: matplotlib is missing ({e}); run launch/install-deps.sh",
                  file=sys.stderr)
            return 1
        save_atomically(fig, args.out)
    except InputProblem as e:
        print(f"plot_metrics: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
