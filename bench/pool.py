"""The local process pool's speed: overhead per trivial replicate, and the speed-up on CPU-bound ones.

Run: ``python bench/pool.py`` (``--trivial N`` replicates per condition, default 5,000;
``--cpu N`` replicates of ``--cpu-ms`` of CPU, default 200 of 20 ms; ``--rounds``).

Trivial: a step recording one metric, baseline + 1 treatment, results in memory
(``store=None``). The floor is the same experiment run serially; a process row's overhead
per replicate is (its time - the floor's) / replicates, medians of interleaved rounds, so
the load of a shared machine falls on all rows alike. "chunk=1" sends one replicate per
round trip (what the pool did before chunks, measured on today's code).

CPU-bound: each replicate burns a fixed number of loop iterations (calibrated once to
``--cpu-ms`` here). Efficiency = serial time / (2 x parallel time), the share of the
ideal two-core speed-up reached; the stdlib ``ProcessPoolExecutor(2).map`` on the same
function is the reference, measured in the same rounds. Both include starting and
stopping their workers. On a shared machine other jobs take cores from the parallel rows
(wall time) more than from the serial one, so each row also shows the CPU seconds it
used (this process and its workers): extra CPU over the serial loop is the pool's own cost,
whatever the load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui import Experiment, Treatment  # noqa: E402

LOOPS = {"n": 100_000}  # iterations of burn() per replicate, set by calibrate()


def step(config, ctx):
    ctx.metrics.add("x", config["v"] + ctx.replicate)


def burn_loops(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def burn(k: int) -> int:
    return burn_loops(LOOPS["n"])


def cpu_step(config, ctx):
    ctx.metrics.add("x", burn_loops(config["loops"]))


def calibrate(ms: float) -> int:
    """Loop iterations that take ``ms`` of CPU here (best of a few tries)."""
    n = 50_000
    best = min(_timed(lambda: burn_loops(n)) for _ in range(5))
    return max(1, int(n * ms / 1000 / best))


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def trivial(n: int, **execution) -> Callable[[], object]:
    def run() -> object:
        exp = Experiment(name="bench", datasource={"v": 1}, pipeline=[step], replicates=n,
                         treatments=[Treatment("t", {"v": 2})], store=None,
                         execution=execution or None)
        result = exp.run(echo=False)
        assert len(result.replicate_results) == 2 * n
        return result
    return run


def cpu_engine(n: int, loops: int) -> Callable[[], object]:
    def run() -> object:
        exp = Experiment(name="bench-cpu", datasource={"loops": loops}, pipeline=[cpu_step],
                         replicates=n, store=None, execution={"backend": "processes", "workers": 2})
        result = exp.run(echo=False)
        assert len(result.replicate_results) == n
        return result
    return run


def cpu_stdlib(n: int) -> Callable[[], object]:
    def run() -> object:
        with ProcessPoolExecutor(2) as pool:
            return list(pool.map(burn, range(n)))
    return run


def cpu_serial(n: int) -> Callable[[], object]:
    return lambda: [burn(k) for k in range(n)]


def interleaved(runs: dict[str, Callable[[], object]], rounds: int,
                cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    """Wall time of every row in each round (rows alternate within a round); CPU seconds
    of this process and its finished children into ``cpu`` if given."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, fn in runs.items():
            gc.collect()
            before = _cpu_seconds()
            times[label].append(_timed(fn))
            if cpu is not None:
                cpu.setdefault(label, []).append(_cpu_seconds() - before)
    return times


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(args: argparse.Namespace) -> dict:
    n = args.trivial
    rows = {
        "serial (floor)": trivial(n),
        "processes x2": trivial(n, backend="processes", workers=2),
        "processes x4": trivial(n, backend="processes", workers=4),
        "processes x2, chunk=1": trivial(n, backend="processes", workers=2, chunk=1),
    }
    for fn in rows.values():  # warm up: imports, the resource tracker, worker start-up code
        fn()
    times = interleaved(rows, args.rounds)
    floor = statistics.median(times["serial (floor)"])
    total = 2 * n
    trivial_rows = {
        label: {
            "us_per_replicate": statistics.median(t) / total * 1e6,
            "overhead_us_per_replicate": (statistics.median(t) - floor) / total * 1e6,
            "best_overhead_us_per_replicate": (min(t) - min(times["serial (floor)"])) / total * 1e6,
        }
        for label, t in times.items()
    }

    LOOPS["n"] = loops = calibrate(args.cpu_ms)
    m = args.cpu
    cpu_rows = {
        "serial loop": cpu_serial(m),
        "crystallize processes x2": cpu_engine(m, loops),
        "ProcessPoolExecutor(2).map": cpu_stdlib(m),
    }
    used: dict[str, list[float]] = {}
    cpu_times = interleaved(cpu_rows, args.cpu_rounds, used)
    serial = statistics.median(cpu_times["serial loop"])
    serial_cpu = statistics.median(used["serial loop"])
    cpu = {
        label: {
            "seconds": statistics.median(t),
            "efficiency": serial / (2 * statistics.median(t)),
            "best_efficiency": min(cpu_times["serial loop"]) / (2 * min(t)),
            "cpu_seconds": statistics.median(used[label]),
            "extra_cpu": statistics.median(used[label]) / serial_cpu - 1,
        }
        for label, t in cpu_times.items() if label != "serial loop"
    }
    return {
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "trivial_replicates_per_condition": n,
        "rounds": args.rounds,
        "trivial": trivial_rows,
        "cpu_replicates": m,
        "cpu_ms_per_replicate": serial / m * 1e3,
        "cpu_rounds": args.cpu_rounds,
        "cpu_serial_seconds": serial,
        "cpu_serial_cpu_seconds": serial_cpu,
        "cpu": cpu,
    }


def report(f: dict) -> None:
    print(f"{f['cpus']} cpus, load {f['load_average_1min']:.1f}")
    print(f"\n{f['trivial_replicates_per_condition']} trivial replicates x 2 conditions, "
          f"{f['rounds']} interleaved rounds, in memory")
    print(f"{'run':26} {'us/replicate':>13} {'overhead':>9} {'best':>7}")
    for label, row in f["trivial"].items():
        print(f"{label:26} {row['us_per_replicate']:13.1f} {row['overhead_us_per_replicate']:9.1f} "
              f"{row['best_overhead_us_per_replicate']:7.1f}")
    x2 = f["trivial"]["processes x2"]["overhead_us_per_replicate"]
    print(f"target: process-parallel overhead <= 10 us/replicate: {x2:.1f} "
          f"({'met' if x2 <= 10 else 'NOT met'})")
    print(f"\n{f['cpu_replicates']} replicates of {f['cpu_ms_per_replicate']:.1f} ms CPU, "
          f"{f['cpu_rounds']} interleaved rounds; serial {f['cpu_serial_seconds']:.2f} s "
          f"({f['cpu_serial_cpu_seconds']:.2f} s CPU)")
    print(f"{'run':28} {'seconds':>8} {'efficiency':>11} {'best':>7} {'CPU s':>7} {'extra CPU':>10}")
    for label, row in f["cpu"].items():
        print(f"{label:28} {row['seconds']:8.2f} {row['efficiency']:11.1%} {row['best_efficiency']:7.1%} "
              f"{row['cpu_seconds']:7.2f} {row['extra_cpu']:10.1%}")
    ours = f["cpu"]["crystallize processes x2"]["efficiency"]
    print(f"target: >= 90% of the ideal two-core speed-up: {ours:.1%} ({'met' if ours >= 0.9 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trivial", type=int, default=5000, help="trivial replicates per condition")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (trivial)")
    parser.add_argument("--cpu", type=int, default=200, help="CPU-bound replicates")
    parser.add_argument("--cpu-ms", type=float, default=20.0, help="CPU per replicate")
    parser.add_argument("--cpu-rounds", type=int, default=3, help="interleaved rounds (CPU-bound)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures)


if __name__ == "__main__":
    main()
