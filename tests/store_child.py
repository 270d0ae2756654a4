"""Runs an experiment against a store in a child process (for kill -9 and concurrency tests).

Usage: python store_child.py STORE NAME REPLICATES SECONDS [resume] [parallel]
"""

import sys
import time

from crystallize_tui import Experiment, ParallelExecution, Treatment


def step(config, ctx):
    time.sleep(config["seconds"])
    ctx.metrics.add("x", ctx.rng.random())
    ctx.metrics.add("k", ctx.replicate)


def build(store, name, replicates, seconds, parallel=False):
    return Experiment(
        name=name, datasource={"seconds": seconds}, pipeline=[step], replicates=replicates,
        treatments=[Treatment("t", {"extra": 1})], seed=5, store=store,
        plugins=[ParallelExecution(max_workers=2)] if parallel else [],
    )


if __name__ == "__main__":
    store, name, replicates, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    flags = sys.argv[5:]
    result = build(store, name, replicates, seconds, "parallel" in flags).run(resume="resume" in flags)
    print(result.status, len(result.replicate_results))
