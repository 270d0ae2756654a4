"""Per-replicate overhead of the engine over a plain Python loop doing the same work.

Run: ``python bench/overhead.py`` (``--replicates N`` per condition, default 5,000).
Trivial step recording one metric, baseline + 1 treatment; prints microseconds per
replicate, overhead over the loop, and the ratio, all measured in this same process.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui import Experiment, ParallelExecution, Treatment  # noqa: E402


def step(config, ctx):
    ctx.metrics.add("x", config["v"] + ctx.replicate)


def plain_loop(configs: dict, n: int) -> list:
    """What a user would write by hand: loop, call, keep the metric per replicate."""
    results = []
    for k in range(n):
        for name, config in configs.items():
            metrics = {}
            metrics["x"] = config["v"] + k
            results.append((name, k, metrics))
    return results


def build(n: int, *plugins, store=None) -> Experiment:
    return Experiment(
        name="bench", datasource={"v": 1}, pipeline=[step], replicates=n,
        treatments=[Treatment("t", {"v": 2})], plugins=list(plugins), store=store,
    )


def timed(fn, repeat: int) -> float:
    """Best of ``repeat`` wall times (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def memory_per_replicate(n: int) -> float:
    exp = build(n)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = exp.run()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(result.replicate_results) == 2 * n
    return (after - before) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5000, help="per condition")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    n, total = args.replicates, 2 * args.replicates
    configs = {"baseline": {"v": 1}, "t": {"v": 2}}

    loop = timed(lambda: plain_loop(configs, n), args.repeat)
    rows = {}

    def measure(label: str, make, repeat: int = args.repeat) -> None:
        t = timed(lambda: make().run(echo=False), repeat)
        rows[label] = {
            "us_per_replicate": t / total * 1e6,
            "overhead_us": (t - loop) / total * 1e6,
            "ratio": t / loop,
        }

    measure("serial, in memory, no listener", lambda: build(n))
    measure("serial, in memory, one listener", lambda: _with_listener(build(n)))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        measure("serial, on-disk SQLite store", lambda: build(n, store=db), 3)
    measure("threads x2", lambda: build(n, ParallelExecution(max_workers=2, kind="thread")), 3)
    measure("processes x2", lambda: build(n, ParallelExecution(max_workers=2)), 3)

    # Linearity: per-replicate cost at 1x, 2x and 4x the replicates.
    scale = {}
    for factor in (1, 2, 4):
        m = n * factor
        t = timed(lambda m=m: build(m).run(echo=False), 3)
        scale[m] = t / (2 * m) * 1e6
    mem = memory_per_replicate(n)

    figures = {
        "replicates_per_condition": n,
        "plain_loop_us_per_replicate": loop / total * 1e6,
        "runs": rows,
        "serial_us_per_replicate_by_size": scale,
        "linearity_spread": (max(scale.values()) - min(scale.values())) / statistics.mean(scale.values()),
        "memory_bytes_per_finished_replicate": mem,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{n} replicates x 2 conditions; plain loop {figures['plain_loop_us_per_replicate']:.2f} us/replicate")
    print(f"{'run':36} {'us/replicate':>13} {'overhead us':>12} {'x loop':>9}")
    for label, row in rows.items():
        print(f"{label:36} {row['us_per_replicate']:13.2f} {row['overhead_us']:12.2f} {row['ratio']:9.1f}")
    print("serial us/replicate by size: " + ", ".join(f"{m}: {v:.2f}" for m, v in scale.items())
          + f" (spread {figures['linearity_spread']:.1%})")
    print(f"memory per finished replicate: {mem:.0f} bytes")


def _with_listener(exp: Experiment) -> Experiment:
    exp.subscribe(lambda event: None)
    return exp


if __name__ == "__main__":
    main()
