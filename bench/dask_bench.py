"""The Dask backend's speed on a 2-worker LocalCluster, against floors measured in the same run.

Run: ``python bench/dask_bench.py`` (needs the [dask] extra). Three figures:
- start + shutdown of the LocalCluster a run starts itself (``DaskBackend.client()``);
- 200 replicates of ~20 ms CPU: the run's speed-up over the same replicates run serially,
  as a share of the ideal two-core speed-up, and what a plain ``client.map`` of the same
  function over the same cluster reaches (the floor Dask itself sets), and the stdlib
  ProcessPoolExecutor with 2 processes (what the machine's load leaves for two processes);
- 5,000 trivial replicates x 2 conditions: wall time per replicate on Dask, and the part
  of it over a serial run of the same experiment (the Dask overhead).
The runs use one cluster started beforehand (passed by address), so cluster start is
counted once, in the first figure. Each figure is the best of ``--rounds`` (default 3).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crystallize_tui import Experiment, Treatment  # noqa: E402
from crystallize_tui.core.backends.dask import LOCAL_CONFIG, DaskBackend  # noqa: E402

SPIN = 0.02  # seconds of CPU per slow replicate


def spin(seconds: float) -> int:
    """Busy CPU work for ``seconds`` of this process's CPU time."""
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def cpu_step(config, ctx):
    ctx.metrics.add("n", spin(SPIN))


def trivial_step(config, ctx):
    ctx.metrics.add("x", config["v"] + ctx.replicate)


def build(step, replicates: int, treatments: bool) -> Experiment:
    return Experiment(name="daskbench", datasource={"v": 1}, pipeline=[step],
                      replicates=replicates, seed=1, store=None,
                      treatments=[Treatment("t", {"v": 2})] if treatments else [])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trivial", type=int, default=5000, help="trivial replicates per condition")
    args = parser.parse_args()

    import dask
    from distributed import Client, LocalCluster

    def start_and_stop() -> None:
        with DaskBackend(workers=2).client() as client:
            client.wait_for_workers(2)

    startup = min(timed(start_and_stop) for _ in range(args.rounds))

    with dask.config.set(LOCAL_CONFIG):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               silence_logs=logging.ERROR, dashboard_address=None,
                               scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
    client = Client(cluster, set_as_default=False)
    address = cluster.scheduler_address
    try:
        client.submit(spin, 0.0, pure=False).result()  # workers warm
        slow = build(cpu_step, 100, True)  # 200 replicates
        trivial = build(trivial_step, args.trivial, True)
        rows: dict[str, list[float]] = {k: [] for k in
                                        ("serial", "dask", "map", "pool", "t-serial", "t-dask")}
        for _ in range(args.rounds):  # interleaved: load falls on every row alike
            rows["serial"].append(timed(lambda: slow.run(backend="serial")))
            slow.execution = {"backend": "dask", "address": address}
            rows["dask"].append(timed(lambda: slow.run()))
            slow.execution = None
            rows["map"].append(timed(lambda: client.gather(
                client.map(spin, [SPIN] * 200, pure=False))))
            with ProcessPoolExecutor(2) as pool:  # what 2 local processes reach under this load
                list(pool.map(spin, [0.0] * 2))
                rows["pool"].append(timed(lambda: list(pool.map(spin, [SPIN] * 200, chunksize=5))))
            rows["t-serial"].append(timed(lambda: trivial.run(backend="serial")))
            trivial.execution = {"backend": "dask", "address": address}
            rows["t-dask"].append(timed(lambda: trivial.run()))
            trivial.execution = None
    finally:
        client.close()
        cluster.close()

    best = {k: min(v) for k, v in rows.items()}
    n_trivial = 2 * args.trivial
    share = best["serial"] / best["dask"] / 2
    map_share = best["serial"] / best["map"] / 2
    pool_share = best["serial"] / best["pool"] / 2
    per = best["t-dask"] / n_trivial * 1e6
    over = (best["t-dask"] - best["t-serial"]) / n_trivial * 1e6
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, best of {args.rounds}")
    print(f"LocalCluster start + shutdown (2 workers): {startup:.2f} s  (target <= 1.5 s)")
    print(f"200 x {SPIN * 1000:.0f} ms CPU: serial {best['serial']:.2f} s, dask {best['dask']:.2f} s "
          f"= {share:.0%} of the ideal 2-core speed-up (target >= 85%); plain client.map "
          f"{best['map']:.2f} s = {map_share:.0%}; stdlib ProcessPoolExecutor(2) "
          f"{best['pool']:.2f} s = {pool_share:.0%}")
    print(f"{n_trivial} trivial replicates: serial {best['t-serial']:.2f} s, dask "
          f"{best['t-dask']:.2f} s = {per:.0f} us per replicate, {over:.0f} us over serial "
          f"(target <= 100 us)")


if __name__ == "__main__":
    main()
