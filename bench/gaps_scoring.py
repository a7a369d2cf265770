#!/usr/bin/env python3
"""Issue 16's figures: on synthetic universes with single-bar halts (and a second exchange with its
own holidays), the share of listed tickers `predict` cannot score at the last date and the trained
model's validation rank IC against the oracle IC, for [features] gaps = "strict" and "skip", side
by side in one run.

Usage: /usr/bin/python3 bench/gaps_scoring.py [--bin build/release/tickstream] [--work DIR] [--out F.json]
A ticker is listed at the last date when its first bar is at or before it and its last bar within
the 7 days before it (a halt on the last bars does not delist it). --analyze-only reads the runs
of an earlier call in --work again. Prints JSON; exits 1 when a run fails or a target is missed.
"""
import argparse
import csv
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env):
    t0 = time.time()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout, time.time() - t0


def one(args, env, exchanges, gaps):
    d = os.path.join(args.work, f"x{exchanges}-{gaps}")
    os.makedirs(d, exist_ok=True)
    if args.analyze_only:
        return analyze(args, env, d, exchanges, gaps, None)
    return analyze(args, env, d, exchanges, gaps, prepare(args, env, d, exchanges, gaps))


def prepare(args, env, d, exchanges, gaps):
    store = os.path.join(d, "store.h5")
    mpi = ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", "2", args.bin]
    if not os.path.exists(store):
        run(mpi + ["synth", "--tickers", "500", "--days", "1260", "--seed", "1234", "--signal", "0.13",
                   "--halt-prob", "0.002", "--exchanges", str(exchanges), "--store", store], env)
    sets = ["--set", f"data.store={store}", "--set", f"features.gaps={gaps}",
            "--set", f"train.checkpoint_dir={d}/ckpt", "--set", f"train.metrics={d}/metrics.jsonl",
            "--set", f"train.tensorboard_dir={d}/tb"]
    config = os.path.join(ROOT, "configs", "quickstart.toml")
    run(mpi + ["features", "--config", config] + sets, env)
    subprocess.run(["rm", "-rf", f"{d}/ckpt"], check=True)
    _, train_s = run(mpi + ["train", "--config", config] + sets, env)
    info = json.loads(run([args.bin, "inspect", store, "--json"], env)[0])
    run(mpi + ["predict", "--config", config] + sets +
        ["--checkpoint", f"{d}/ckpt", "--asof", info["last_time"], "--out", f"{d}/pred.csv"], env)
    return train_s


def analyze(args, env, d, exchanges, gaps, train_s):
    store = os.path.join(d, "store.h5")
    info = json.loads(run([args.bin, "inspect", store, "--json"], env)[0])
    last = info["last_time"]
    scored = {r["ticker"] for r in csv.DictReader(open(f"{d}/pred.csv"))}
    reasons = {}
    skipped_path = f"{d}/pred.skipped.csv"
    if os.path.exists(skipped_path):
        for r in csv.DictReader(open(skipped_path)):
            key = r["reason"].split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
    bars = info["bars"]
    listed = []
    cutoff = (dt.date.fromisoformat(last[:10]) - dt.timedelta(days=7)).isoformat()  # ISO strings compare as dates
    for t in info["per_ticker"]:
        if t["first_time"] and t["first_time"] <= last and t["last_time"] >= cutoff:
            listed.append(t["ticker"])
    unscorable = [t for t in listed if t not in scored]
    metrics = [json.loads(line) for line in open(f"{d}/metrics.jsonl")]
    rank_ic = metrics[-1]["val_rank_ic"]
    return {"exchanges": exchanges, "gaps": gaps, "bars": bars, "listed": len(listed), "scored_listed": len(listed) - len(unscorable),
            "unscorable": len(unscorable), "unscorable_share": len(unscorable) / max(1, len(listed)),
            "skip_reasons": reasons, "tickers_with_gaps": info["tickers_with_gaps"],
            "missing_in_span_fraction": info["missing_in_span_fraction"], "oracle_ic": info["oracle_ic"],
            "val_rank_ic": rank_ic, "rank_ic_vs_oracle": rank_ic / info["oracle_ic"], "train_s": train_s}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "tickstream"))
    p.add_argument("--work", default="/tmp/tickstream-gaps")
    p.add_argument("--out", default="")
    p.add_argument("--analyze-only", action="store_true")
    args = p.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    rows = [one(args, env, x, g) for x in (1, 2) for g in ("strict", "skip")]
    ok = all(r["unscorable_share"] < 0.005 and r["rank_ic_vs_oracle"] >= 0.7 for r in rows if r["gaps"] == "skip")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], stdout=subprocess.PIPE, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    result = {"benchmark": "gaps_scoring", "machine": {"host": platform.node(), "cpus": os.cpu_count(), "cpu": cpu},
              "commit": commit, "universe": "synth --tickers 500 --days 1260 --seed 1234 --signal 0.13 --halt-prob 0.002",
              "targets": {"unscorable_share_lt": 0.005, "rank_ic_vs_oracle_ge": 0.7}, "runs": rows,
              "targets_met_skip": ok}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
