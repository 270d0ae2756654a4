"""The async backend at scale: simulated I/O at 32-way concurrency, and its per-replicate cost.

Run: ``python bench/async_bench.py`` (``--quick``: 64 replicates of 0.25 s, 1,000 trivial).

1. ``--replicates`` (200) replicates that each await ``--sleep`` (1 s) of simulated I/O
   (``asyncio.sleep``) at ``--concurrency`` (32), as a user runs them: ``Experiment.run``
   with the on-disk store. The floor is ceil(200/32) x 1 s = 7 s (no scheduler can do
   better at 32 in flight); serial would take 200 x 1 s. The same work as a plain
   ``asyncio.gather`` under a 32-slot semaphore is measured in the same run.
2. The cost per replicate with 0 s sleeps (``await asyncio.sleep(0)``, a seeded draw, one
   metric), against the same coroutines under ``asyncio.gather`` with a semaphore: rounds
   interleave so load falls on every row alike; the median and best round are given.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui import Experiment  # noqa: E402

SLEEP = {"s": 1.0}  # the simulated I/O of part 1 (set from --sleep)


async def io_step(data, ctx):
    await asyncio.sleep(SLEEP["s"])
    ctx.metrics.add("x", ctx.rng.random())


async def trivial_step(data, ctx):
    await asyncio.sleep(0)
    ctx.metrics.add("x", ctx.rng.random())


async def _gather(n: int, concurrency: int, sleep: float) -> None:
    """The floor: the same coroutines, seeded draws and metric dicts, without the engine."""
    slots = asyncio.Semaphore(concurrency)
    out: list[dict[str, float]] = []

    async def one(k: int) -> None:
        async with slots:
            await asyncio.sleep(sleep)
            out.append({"x": random.Random(k).random()})

    await asyncio.gather(*(one(k) for k in range(n)))


def timed_gather(n: int, concurrency: int, sleep: float) -> float:
    start = time.perf_counter()
    asyncio.run(_gather(n, concurrency, sleep))
    return time.perf_counter() - start


def timed_run(step, n: int, concurrency: int, store: Path | None) -> float:
    exp = Experiment(name="async-bench", pipeline=[step], replicates=n, store=store)
    start = time.perf_counter()
    result = exp.run(backend="async", concurrency=concurrency, echo=False)
    elapsed = time.perf_counter() - start
    assert result.status == "completed", result.status
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--trivial", type=int, default=5000, help="replicates of part 2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.replicates, args.sleep, args.trivial, args.rounds = 64, 0.25, 1000, 3
    SLEEP["s"] = args.sleep
    n, c = args.replicates, args.concurrency
    print(f"{os.cpu_count()} cores; 1-minute load average {os.getloadavg()[0]:.2f}")
    floor = math.ceil(n / c) * args.sleep
    with tempfile.TemporaryDirectory(prefix="async_bench") as tmp:
        run = timed_run(io_step, n, c, Path(tmp) / "io.db")
        gathered = timed_gather(n, c, args.sleep)
        print(f"\n1. {n} replicates awaiting {args.sleep:g} s each, {c} at a time (on-disk store)")
        print(f"   async backend      {run:7.2f} s   {run / floor:.3f} x the floor ({floor:g} s), "
              f"{n * args.sleep / run:.1f} x faster than serial's {n * args.sleep:g} s")
        print(f"   asyncio.gather     {gathered:7.2f} s   {gathered / floor:.3f} x the floor")

        rows: dict[str, list[float]] = {"asyncio.gather + semaphore (floor)": [],
                                        "async backend, store=None": [],
                                        "async backend, on-disk store": []}
        m = args.trivial
        for r in range(args.rounds):
            rows["asyncio.gather + semaphore (floor)"].append(timed_gather(m, c, 0.0) / m)
            rows["async backend, store=None"].append(timed_run(trivial_step, m, c, None) / m)
            rows["async backend, on-disk store"].append(
                timed_run(trivial_step, m, c, Path(tmp) / f"trivial{r}.db") / m)
    print(f"\n2. {m} trivial replicates (await asyncio.sleep(0)), {c} at a time, {args.rounds} rounds")
    print(f"   {'row':38} {'median µs':>10} {'best µs':>9} {'over floor µs':>14}")
    base = statistics.median(rows["asyncio.gather + semaphore (floor)"])
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"   {name:38} {med * 1e6:10.1f} {min(values) * 1e6:9.1f} {(med - base) * 1e6:14.1f}")
    print(f"\n1-minute load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
