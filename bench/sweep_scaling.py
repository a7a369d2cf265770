#!/usr/bin/python3
"""Sweep scaling: a sweep of 4 trials on 2 ranks as 2 groups of 1 (a trial per rank, side by side)
against the same 4 trials run one after another on 2 ranks as one group of 2 (data parallel).
Target: the groups of 1 take >= 1.5x less wall time.

Makes (or reuses with --store) a quickstart-like store (500 tickers x 1260 days, --signal 0.13,
features from configs/quickstart.toml), then runs

    mpirun -np 2 tickstream sweep --config configs/quickstart.toml --grid G --group-size 1
    mpirun -np 2 tickstream sweep --config configs/quickstart.toml --grid G --group-size 2

into fresh --out directories, alternating (1, 2, 1, 2 for --repeats 2), each timed end to end as a
user's wall clock sees it (process start, MPI init and the libtorch load included); the best time
of each counts. Every run must record 4 "ok" trials with a finite best validation rank IC. Prints
the JSON (and writes it to --out FILE).

Standard library only: /usr/bin/python3 bench/sweep_scaling.py [--bin B] [--store S] [--out F]
"""
import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_bin():
    for b in ("build/cpu/tickstream", "build/release/tickstream", "build/tickstream"):
        if os.access(os.path.join(ROOT, b), os.X_OK):
            return os.path.join(ROOT, b)
    return os.path.join(ROOT, "build/release/tickstream")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dirty():
    try:
        return bool(subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


def mpirun(ranks):
    return ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(ranks)]


def run(cmd, log, env):
    with open(log, "w") as out:
        r = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        with open(log) as f:
            sys.stderr.write(f.read()[-4000:])
        raise SystemExit(f"sweep_scaling: exit {r.returncode}: {' '.join(cmd)} (log {log})")


def make_store(args, env):
    store = os.path.join(args.work, "store.h5")
    run(mpirun(2) + [args.bin, "synth", "--tickers", "500", "--days", "1260", "--seed", "1234", "--signal", "0.13",
                     "--store", store], os.path.join(args.work, "synth.log"), env)
    run(mpirun(2) + [args.bin, "features", "--config", args.config, "--set", f"data.store={json.dumps(store)}"],
        os.path.join(args.work, "features.log"), env)
    return store


def sweep(args, env, store, group_size, rep):
    out = os.path.join(args.work, f"sweep-g{group_size}-r{rep}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = mpirun(2) + [args.bin, "sweep", "--config", args.config, "--grid", args.grid, "--out", out,
                       "--group-size", str(group_size), "--set", f"data.store={json.dumps(store)}",
                       "--set", f"train.max_steps={args.max_steps}", "--set", f"train.eval_every={args.eval_every}"]
    t0 = time.monotonic()
    run(cmd, out + ".log", env)
    seconds = time.monotonic() - t0
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    trials = results["trials"]
    if len(trials) != args.trials:
        raise SystemExit(f"sweep_scaling: {out}: {len(trials)} trials recorded, expected {args.trials}")
    for t in trials:
        ic = t.get("best_val_rank_ic")
        if t["status"] != "ok" or not isinstance(ic, (int, float)) or not math.isfinite(ic):
            raise SystemExit(f"sweep_scaling: {out}: trial {t['trial']}: status {t['status']}, best_val_rank_ic {ic}, "
                             f"error {t.get('error')!r}")
        if t["steps"] != args.max_steps:
            raise SystemExit(f"sweep_scaling: {out}: trial {t['trial']} ran {t['steps']} steps, not {args.max_steps}")
    return {"seconds": round(seconds, 2),
            "trials": [{"trial": t["trial"], "keys": t["keys"], "group": t["group"], "seconds": round(t["seconds"], 2),
                        "best_val_rank_ic": t["best_val_rank_ic"]} for t in trials]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=default_bin(), help="tickstream executable")
    p.add_argument("--config", default=os.path.join(ROOT, "configs/quickstart.toml"))
    p.add_argument("--grid", default=os.path.join(ROOT, "configs/sweep-grid.toml"), help="a grid of 4 trials")
    p.add_argument("--store", help="reuse this store (with features); default: make one in --work")
    p.add_argument("--work", default=os.path.join(ROOT, "runs/bench-sweep"), help="scratch directory")
    p.add_argument("--max-steps", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--repeats", type=int, default=2, help="runs of each layout (alternating); the best counts")
    p.add_argument("--trials", type=int, default=4, help="trials the grid makes")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()
    args.bin, args.config, args.grid = map(os.path.abspath, (args.bin, args.config, args.grid))
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    load_before = loadavg()
    t0 = time.monotonic()
    store = os.path.abspath(args.store) if args.store else make_store(args, env)
    store_s = time.monotonic() - t0
    runs = {1: [], 2: []}
    for rep in range(args.repeats):
        for group_size in (1, 2):
            r = sweep(args, env, store, group_size, rep)
            runs[group_size].append(r)
            print(f"sweep_scaling: repeat {rep + 1}, group size {group_size}: {r['seconds']:.1f} s", file=sys.stderr)
    best = {g: min(rs, key=lambda r: r["seconds"]) for g, rs in runs.items()}
    g1, g2 = best[1]["seconds"], best[2]["seconds"]
    speedup = g2 / g1
    report = {
        "benchmark": "sweep_scaling",
        "what": f"{args.trials} trials on 2 ranks as 2 groups of 1 vs one group of 2 (the trials one after another, "
                "data parallel), wall time end to end per sweep command, best of the repeats",
        "machine": {"hostname": socket.gethostname(), "nproc": os.cpu_count(), "cpu_model": cpu_model()},
        "commit": commit(),
        "worktree_dirty": dirty(),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "binary": args.bin,
        "config": os.path.relpath(args.config, ROOT),
        "grid": os.path.relpath(args.grid, ROOT),
        "store": {"path": store, "made": not args.store, "seconds": round(store_s, 1),
                  "shape": "500 tickers x 1260 days, --signal 0.13, --seed 1234" if not args.store else None},
        "trials": args.trials,
        "max_steps": args.max_steps,
        "eval_every": args.eval_every,
        "ranks": 2,
        "repeats": args.repeats,
        "groups_of_1_s": g1,
        "one_group_of_2_s": g2,
        "speedup": round(speedup, 3),
        "target": 1.5,
        "target_met": speedup >= 1.5,
        "note": "[train] batch_size is per rank: a group of 2 trains each trial with twice the global batch of a "
                "group of 1 (same steps, twice the samples); on 2 cores each group of 1 has a core to itself",
        "runs_s": {"groups_of_1": [r["seconds"] for r in runs[1]], "one_group_of_2": [r["seconds"] for r in runs[2]]},
        "per_trial_s": {"groups_of_1": best[1]["trials"], "one_group_of_2": best[2]["trials"]},
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
