"""Per-replicate cost of the engine as a user runs it, against a plain Python loop doing the same work.

Run: ``python bench/overhead.py`` (``--replicates N`` per condition, default 5,000).
Trivial step drawing once from ``ctx.rng`` and recording one metric, baseline + 1
treatment; the floor is the loop a user would write (a ``random.Random(seed)`` per
replicate, one draw, a dict of metrics). The first rows are what a user gets by default: ``Experiment.run()`` commits every replicate to the on-disk store
(``.crystallize/crystallize.db`` of the workspace, here a fresh temporary one), and
``ParallelExecution()`` starts 4 process workers. Every row runs once per round and the
rounds interleave, so load on a shared machine falls on all rows alike; the table gives
the median and the best round. ``--peer PATH`` adds crystallize-ml's quick_experiment
(``PATH`` is a site-packages folder holding it) as a row measured in the same rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui import Experiment, ParallelExecution, Treatment, quick_experiment  # noqa: E402
from crystallize_tui.core.experiment import DEFAULT_STORE  # noqa: E402

CONFIGS = {"baseline": {"v": 1}, "t": {"v": 2}}
PEER_ROW = "crystallize-ml quick_experiment"
DISK_ROW = "default: run() (on-disk store)"
# The target for the on-disk store path: at most this many microseconds per
# replicate over the seeded loop.
DISK_TARGET_US = 15.0


def step(config, ctx):
    ctx.metrics.add("x", config["v"] + ctx.rng.random())


def returns_metric(config):
    """Like ``step``, written for quick_experiment (and crystallize-ml's): return the metrics."""
    return {"x": config["v"] + 1}


def plain_loop(n: int) -> list:
    """What a user would write by hand: loop, seed a generator per replicate, draw, keep the
    metric per replicate."""
    results = []
    for k in range(n):
        for name, config in CONFIGS.items():
            rng = random.Random(k)
            metrics = {}
            metrics["x"] = config["v"] + rng.random()
            results.append((name, k, metrics))
    return results


def build(n: int, *plugins, store=DEFAULT_STORE) -> Experiment:
    return Experiment(
        name="bench", datasource={"v": 1}, pipeline=[step], replicates=n,
        treatments=[Treatment("t", {"v": 2})], plugins=list(plugins), store=store,
    )


def rows(n: int, quick_store: Path) -> dict[str, Callable[[], object]]:
    """Each row: a label and what it runs (a fresh experiment every time)."""
    return {
        DISK_ROW: lambda: build(n).run(),
        "default: run(), ParallelExecution()": lambda: build(n, ParallelExecution()).run(),
        "in memory (store=None)": lambda: build(n, store=None).run(),
        "in memory, one listener": lambda: _with_listener(build(n, store=None)).run(),
        "in memory, threads x2": lambda: build(n, ParallelExecution(2, "thread"), store=None).run(),
        "in memory, ParallelExecution()": lambda: build(n, ParallelExecution(), store=None).run(),
        "quick_experiment (default)": lambda: quick_experiment(returns_metric, CONFIGS, n),
        "quick_experiment(store=path)": lambda: quick_experiment(returns_metric, CONFIGS, n, store=quick_store),
    }


def peer_row(n: int, site: str) -> Callable[[], object] | None:
    """crystallize-ml's quick_experiment on the same work, if it can be imported from ``site``."""
    sys.path.append(site)
    try:
        from crystallize import quick_experiment as peer  # crystallize-ml
    except ImportError as exc:
        print(f"--peer: cannot import crystallize-ml from {site}: {exc}", file=sys.stderr)
        return None
    return lambda: peer(returns_metric, CONFIGS, replicates=n)


def interleaved(runs: dict[str, Callable[[], object]], rounds: int,
                cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Wall time of every row in each round; rows alternate within a round. With ``cpu``,
    also the process's CPU time (all its threads) of each: less moved by other processes'
    load on a shared machine than the wall clock."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, fn in runs.items():
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu.setdefault(label, []).append(time.process_time() - c0)
    return times


def memory_per_replicate(n: int) -> float:
    exp = build(n, store=None)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = exp.run(echo=False)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(result.replicate_results) == 2 * n
    return (after - before) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5000, help="per condition")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--peer", metavar="SITE_PACKAGES", help="also time crystallize-ml from this folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    # A fresh workspace's store: the default file and settings, without touching the
    # store of the folder the benchmark is started from.
    workspace = Path(tempfile.mkdtemp(prefix="crystallize-bench-"))
    os.environ["CRYSTALLIZE_HOME"] = str(workspace / ".crystallize")
    try:
        figures = measure(args, workspace)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    report(figures)


def measure(args: argparse.Namespace, workspace: Path) -> dict:
    n, total = args.replicates, 2 * args.replicates
    runs: dict[str, Callable[[], object]] = {"plain loop": lambda: plain_loop(n)}
    runs.update(rows(n, workspace / "quick.db"))
    if args.peer:
        peer = peer_row(n, args.peer)
        if peer is not None:
            runs[PEER_ROW] = peer
    for fn in runs.values():  # warm up: imports, worker start-up code, the store schema
        fn()
    cpu: dict[str, list[float]] = {}
    times = interleaved(runs, args.rounds, cpu)
    loop = statistics.median(times["plain loop"])
    table = {
        label: {
            "us_per_replicate_median": statistics.median(t) / total * 1e6,
            "us_per_replicate_best": min(t) / total * 1e6,
            "x_loop": statistics.median(t) / loop,
        }
        for label, t in times.items() if label != "plain loop"
    }

    # Linearity: in-memory per-replicate cost at 1x, 2x and 4x the replicates.
    scale = {}
    for factor in (1, 2, 4):
        m = n * factor
        t = interleaved({"r": lambda m=m: build(m, store=None).run()}, 3)["r"]
        scale[m] = min(t) / (2 * m) * 1e6
    mem = memory_per_replicate(n)

    peer = table.get(PEER_ROW)
    figures = {
        "replicates_per_condition": n,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "plain_loop_us_per_replicate": loop / total * 1e6,
        "runs": table,
        "in_memory_us_per_replicate_by_size": scale,
        "linearity_spread": (max(scale.values()) - min(scale.values())) / statistics.mean(scale.values()),
        "memory_bytes_per_finished_replicate": mem,
        # The figure: the default on-disk path's cost per replicate over the
        # seeded loop (medians of the same rounds), and the in-memory path's likewise.
        "on_disk_us_over_loop": table[DISK_ROW]["us_per_replicate_median"] - loop / total * 1e6,
        "in_memory_us_over_loop": (table["in memory (store=None)"]["us_per_replicate_median"]
                                   - loop / total * 1e6),
        "on_disk_cpu_us_over_loop": (statistics.median(cpu[DISK_ROW])
                                     - statistics.median(cpu["plain loop"])) / total * 1e6,
    }
    if peer is not None:
        # The on-ramp's target: no dearer per replicate than crystallize-ml's (ratio <= 1),
        # medians of the same interleaved rounds.
        figures["quick_over_peer"] = (
            table["quick_experiment (default)"]["us_per_replicate_median"] / peer["us_per_replicate_median"])
    return figures


def report(figures: dict) -> None:
    n, rounds, table = figures["replicates_per_condition"], figures["rounds"], figures["runs"]
    scale, mem = figures["in_memory_us_per_replicate_by_size"], figures["memory_bytes_per_finished_replicate"]
    print(f"{n} replicates x 2 conditions, {rounds} interleaved rounds; {figures['cpus']} cpus, "
          f"load {figures['load_average_1min']:.1f}; seeded loop {figures['plain_loop_us_per_replicate']:.2f} us/replicate")
    print(f"{'run':38} {'us/replicate':>13} {'best round':>11} {'x loop':>8}")
    for label, row in table.items():
        print(f"{label:38} {row['us_per_replicate_median']:13.1f} {row['us_per_replicate_best']:11.1f} "
              f"{row['x_loop']:8.0f}")
    print("in-memory us/replicate by size: " + ", ".join(f"{m}: {v:.2f}" for m, v in scale.items())
          + f" (spread {figures['linearity_spread']:.1%})")
    print(f"memory per finished replicate: {mem:.0f} bytes")
    over = figures["on_disk_us_over_loop"]
    print(f"on-disk store: {over:.1f} us per replicate over that loop (CPU time: "
          f"{figures['on_disk_cpu_us_over_loop']:.1f}; in memory: "
          f"{figures['in_memory_us_over_loop']:.1f}); target <= {DISK_TARGET_US:g}: "
          f"{'met' if over <= DISK_TARGET_US else 'NOT met'}")
    if "quick_over_peer" in figures:
        ratio = figures["quick_over_peer"]
        print(f"quick_experiment / crystallize-ml per replicate: {ratio:.2f} "
              f"(target <= 1: {'met' if ratio <= 1 else 'NOT met'})")


def _with_listener(exp: Experiment) -> Experiment:
    exp.subscribe(lambda event: None)
    return exp


if __name__ == "__main__":
    main()
