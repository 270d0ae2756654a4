"""Speed of the statistics: result.compare() on a large run, and `crystallize show` of a
run with 1,000 metrics through the real CLI.

Run: ``python bench/stats.py`` (``--quick`` for a smaller table). Each figure comes with
a floor measured in the same run on the same machine, and the ratio to it:
- compare(): 10,000 replicates x 20 metrics (15 continuous, 5 binary) x 5 treatments, paired
  (the default) and unpaired; the floor is a bare scipy loop running just the one test per
  row on ready numpy arrays (no effects, intervals, notes or corrections).
- show: `crystallize show RUN_ID` in a subprocess for a stored run of 1,000 metrics x 20
  replicates x 2 conditions; the floor is a subprocess that only imports scipy.stats and rich.
Wall seconds are best of ``--repeat``; on a shared machine the CPU seconds are the steadier
figure. Targets (issue 9, item 40): compare <= 2 s either way, show <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui.core.result import ReplicateResult, Result  # noqa: E402

BINARY_EVERY = 4  # every 4th metric is 0/1


def make_result(n: int, metrics: int, treatments: int) -> Result:
    rng = random.Random(40)
    conditions = ["baseline", *(f"t{i}" for i in range(treatments))]
    outcomes = []
    for c_index, condition in enumerate(conditions):
        lift = 0.02 * c_index
        for k in range(n):
            values = [
                (f"m{m:02d}", int(rng.random() < 0.3 + lift) if m % BINARY_EVERY == BINARY_EVERY - 1
                 else rng.gauss(lift, 1.0))
                for m in range(metrics)
            ]
            outcomes.append(ReplicateResult(condition, k, k, "ok", values, 0.0))
    return Result(run_id="bench", experiment="bench", seed=0, replicates=n,
                  conditions=conditions, configs={}, outcomes=outcomes, status="completed")


def scipy_floor(result: Result, paired: bool) -> None:
    """The least a table costs: one scipy test per (metric, treatment) on numpy arrays."""
    import numpy as np
    from scipy import stats

    base = result.metrics.baseline.metrics
    for name, values in base.items():
        a = np.asarray(values, dtype=float)
        binary = set(values) <= {0, 1}
        for condition in result.conditions[1:]:
            b = np.asarray(result.metrics[condition].metrics[name], dtype=float)
            if binary and paired:
                only_b, only_a = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
                stats.binomtest(only_b, only_b + only_a)
            elif binary:
                stats.fisher_exact([[int(b.sum()), int(a.sum())],
                                    [len(b) - int(b.sum()), len(a) - int(a.sum())]])
            elif paired:
                stats.ttest_rel(b, a)
            else:
                stats.ttest_ind(b, a, equal_var=False)


def timed(fn, repeat: int) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that same attempt)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        best = min(best, (wall, cpu))
    return best


def timed_subprocess(args: list[str], cwd: Path, env: dict, repeat: int) -> tuple[float, float]:
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - w0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()[-500:]}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


WIDE_STEP = '''
def many(config, ctx):
    for i in range(1000):
        ctx.metrics.add(f"m{i:04d}", ctx.rng.gauss(0, 1) + config["lift"] * (i % 2))
'''
WIDE_YAML = '''
pipeline: [steps:many]
datasource: {lift: 0}
replicates: 20
seed: 1
treatments:
  up: {lift: 1}
'''


def bench_show(repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="crystallize-bench-stats-") as folder:
        root = Path(folder)
        experiment = root / "experiments" / "wide"
        experiment.mkdir(parents=True)
        (experiment / "experiment.yaml").write_text(textwrap.dedent(WIDE_YAML))
        (experiment / "steps.py").write_text(textwrap.dedent(WIDE_STEP))
        env = {**os.environ, "CRYSTALLIZE_HOME": str(root / "home")}
        cli = [sys.executable, "-m", "crystallize_tui.cli"]
        run = subprocess.run([*cli, "run", "wide"], cwd=root, env=env, capture_output=True,
                             text=True)
        if run.returncode != 0:
            raise SystemExit(f"run failed: {run.stderr.strip()[-500:]}")
        run_id = run.stdout.strip().splitlines()[-1].split()[1]
        show = timed_subprocess([*cli, "show", run_id], root, env, repeat)
        floor = timed_subprocess([sys.executable, "-c", "import scipy.stats, rich.table"], root,
                                 env, repeat)
    return {"show_wall_s": show[0], "show_cpu_s": show[1], "floor_wall_s": floor[0],
            "floor_cpu_s": floor[1], "ratio_wall": show[0] / floor[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 replicates, for a smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    n = 1000 if args.quick else 10_000
    result = make_result(n, 20, 5)
    import scipy.stats  # noqa: F401  (imported once, outside every timing)

    figures: dict = {"replicates": n, "metrics": 20, "treatments": 5}
    for label, paired in (("paired", True), ("unpaired", False)):
        wall, cpu = timed(lambda p=paired: result.compare(paired=p), args.repeat)
        floor_wall, floor_cpu = timed(lambda p=paired: scipy_floor(result, p), args.repeat)
        figures[f"compare_{label}"] = {"wall_s": wall, "cpu_s": cpu, "floor_wall_s": floor_wall,
                                       "floor_cpu_s": floor_cpu, "ratio": wall / floor_wall}
    figures["show_1000_metrics"] = bench_show(args.repeat)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"compare(): {n} replicates x 20 metrics x 5 treatments (100 rows)")
    for label in ("paired", "unpaired"):
        f = figures[f"compare_{label}"]
        print(f"  {label:9} {f['wall_s']:6.2f} s wall ({f['cpu_s']:.2f} s CPU); bare scipy "
              f"floor {f['floor_wall_s']:.2f} s; ratio {f['ratio']:.1f}")
    s = figures["show_1000_metrics"]
    print(f"crystallize show, 1,000 metrics: {s['show_wall_s']:.2f} s wall ({s['show_cpu_s']:.2f} s "
          f"CPU); import floor {s['floor_wall_s']:.2f} s; ratio {s['ratio_wall']:.1f}")


if __name__ == "__main__":
    main()
