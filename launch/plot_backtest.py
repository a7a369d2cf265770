#!/usr/bin/env python3
# Draws a walk-forward backtest (docs/research.md): the long-short equity curve and drawdown over
# the out-of-sample bars, and each fold's out-of-sample IC and rank IC against the oracle IC.
"""Usage: /usr/bin/python3 launch/plot_backtest.py BACKTEST.json OUT.png [--csv PORTFOLIO.csv]

The CSV defaults to the portfolio.csv beside the JSON. Exit codes: 0 ok, 2 bad input (the message
names the file), 1 anything else. The PNG is written under a temporary name and renamed.
"""
import argparse
import csv
import datetime as dt
import json
import math
import os
import sys

from plot_common import InputProblem, save_atomically  # launch/plot_common.py, beside this script


def read_report(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputProblem(f"{path}: cannot read a backtest report: {e}") from e
    for key in ("folds", "overall", "portfolio"):
        if key not in report:
            raise InputProblem(f"{path}: missing key '{key}'")
    return report


def parse_date(text, where):
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise InputProblem(f"{where}: bad date {text!r}") from e


def read_days(path):
    """Columns date, fold, net, gross, equity, drawdown of the portfolio CSV."""
    cols = {k: [] for k in ("date", "fold", "net", "gross", "equity", "drawdown")}
    try:
        with open(path, encoding="utf-8", newline="") as f:
            for line_no, row in enumerate(csv.DictReader(f), start=2):
                where = f"{path}:{line_no}"
                try:
                    cols["date"].append(parse_date(row["date"], where))
                    cols["fold"].append(int(row["fold"]))
                    for k in ("net", "gross", "equity", "drawdown"):
                        cols[k].append(float(row[k]))
                except (KeyError, TypeError, ValueError) as e:
                    raise InputProblem(f"{where}: bad row: {e}") from e
    except OSError as e:
        raise InputProblem(f"{path}: cannot read: {e}") from e
    if not cols["date"]:
        raise InputProblem(f"{path}: no portfolio days")
    return cols


def value(x):
    return math.nan if x is None else float(x)


def draw(report, days):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (eq, dd, ic) = plt.subplots(3, 1, figsize=(10, 10), gridspec_kw={"height_ratios": [3, 1, 2]})
    gross = [1.0]
    for r in days["gross"]:
        gross.append(gross[-1] * (1.0 + r))
    p = report["portfolio"]
    eq.plot(days["date"], days["equity"], label=f"net of {p.get('cost_bps')} bps")
    eq.plot(days["date"], gross[1:], label="gross", alpha=0.6)
    for k, fold in enumerate(report["folds"]):
        test = fold.get("test") or {}
        if test:
            eq.axvspan(parse_date(test["first"], "test"), parse_date(test["last"], "test"),
                       color="gray" if k % 2 else "white", alpha=0.12)
    eq.set_yscale("log")
    eq.set_ylabel("equity (log)")
    eq.set_title(f"walk-forward long-short top/bottom {100 * value(p.get('quantile')):.0f}%: "
                 f"annual return {100 * value(p.get('annual_return')):.1f}%, "
                 f"IR {value(p.get('information_ratio')):.2f}, max drawdown {100 * value(p.get('max_drawdown')):.1f}%")
    eq.legend()
    eq.grid(alpha=0.3)
    dd.fill_between(days["date"], [-d for d in days["drawdown"]], 0, color="tab:red", alpha=0.5)
    dd.set_ylabel("drawdown")
    dd.grid(alpha=0.3)
    folds = [f["fold"] + 1 for f in report["folds"]]
    width = 0.38
    ic.bar([x - width / 2 for x in folds], [value(f["oos"]["ic"]) for f in report["folds"]], width, label="IC")
    ic.bar([x + width / 2 for x in folds], [value(f["oos"]["rank_ic"]) for f in report["folds"]], width,
           label="rank IC")
    oracle = report["overall"].get("oracle_ic")
    if oracle is not None:
        ic.axhline(oracle, color="gray", linestyle="--", label=f"oracle IC {oracle:.3g}")
    ic.axhline(0.0, color="black", linewidth=0.5)
    ic.set_xticks(folds)
    ic.set_xlabel("fold (out of sample)")
    ic.set_ylabel("IC")
    ic.legend()
    ic.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def main(argv):
    parser = argparse.ArgumentParser(description="Plot a tickstream walk-forward backtest.")
    parser.add_argument("report", help="backtest.json written by tickstream backtest")
    parser.add_argument("out", help="output PNG path")
    parser.add_argument("--csv", default=None, help="portfolio CSV (default: portfolio.csv beside the report)")
    args = parser.parse_args(argv)
    try:
        report = read_report(args.report)
        days = read_days(args.csv or os.path.join(os.path.dirname(args.report), "portfolio.csv"))
        try:
            fig = draw(report, days)
        except ImportError as e:
            print(f"plot_backtest: matplotlib is missing ({e}); run launch/install-deps.sh", file=sys.stderr)
            return 1
        save_atomically(fig, args.out)
    except InputProblem as e:
        print(f"plot_backtest: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
