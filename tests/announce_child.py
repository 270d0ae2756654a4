"""Runs an experiment whose subscriber appends each announced replicate to a file (flushed
and fsynced before the run goes on), for the kill -9 tests of group commits.

Usage: python announce_child.py STORE ANNOUNCED REPLICATES MS [resume] [gate=PATH]
(MS: the longest sleep of a replicate, in milliseconds; with gate=PATH replicate 1 of the
baseline waits until PATH exists.)
"""

import os
import sys
import time
from pathlib import Path

from crystallize_tui import Experiment, ReplicateFailed, ReplicateFinished, Treatment


def step(config, ctx):
    gate = config.get("gate")
    if gate and ctx.treatment == "baseline" and ctx.replicate == 1:
        while not os.path.exists(gate):
            time.sleep(0.01)
    # Replicates of varying length: groups fill, or are cut by the commit window.
    time.sleep(ctx.rng.random() * config["ms"] / 1000)
    ctx.metrics.add("x", ctx.rng.random())
    ctx.metrics.add("k", ctx.replicate)


def build(store, replicates, ms, gate=None):
    return Experiment(
        name="announced", datasource={"ms": ms, "gate": gate}, pipeline=[step],
        replicates=replicates, treatments=[Treatment("t", {"extra": 1})], seed=7, store=store,
    )


def announcer(path):
    out = open(path, "a")  # noqa: SIM115 - open for the whole run

    def announce(event):
        if isinstance(event, (ReplicateFinished, ReplicateFailed)):
            out.write(f"{event.treatment} {event.replicate}\n")
            out.flush()
            os.fsync(out.fileno())

    return announce


if __name__ == "__main__":
    store, announced, replicates, ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    flags = sys.argv[5:]
    gate = next((f[5:] for f in flags if f.startswith("gate=")), None)
    result = build(Path(store), replicates, ms, gate).run(
        resume="resume" in flags, echo=False, subscribers=[announcer(announced)])
    print(result.status, len(result.replicate_results))
