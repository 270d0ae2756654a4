"""Step functions of the Dask tests (module-level, so Dask workers import them by name)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from crystallize_tui.core.errors import Cancelled


def wait_for_flag(config, ctx):
    """Prints and emits, then waits until the run process answers by creating this
    replicate's flag file: it can end only if its events reached the run while it ran."""
    print(f"hello {ctx.treatment} {ctx.replicate}")
    ctx.emit("waiting", pid=os.getpid())
    flag = Path(config["flags"], f"{ctx.treatment}-{ctx.replicate}")
    deadline = time.monotonic() + 15
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    ctx.metrics.add("answered", flag.exists())
    ctx.metrics.add("draw", ctx.rng.random())


def stops_when_cancelled(config, ctx):
    """Runs for a minute, checking for a cancel; leaves a file saying it was stopped."""
    ctx.emit("begin", pid=os.getpid())
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.01)
    except Cancelled:
        Path(config["stopped"], f"{ctx.treatment}-{ctx.replicate}").write_text("stopped")
        raise
    ctx.metrics.add("slept", 1)


def dies(config, ctx):
    """Baseline replicate 1 kills its worker every time; replicate 3 only the first time
    (a marker file remembers): a crash, and a lost worker that a retry survives."""
    if config.get("die") and ctx.treatment == "baseline":
        if ctx.replicate == 1:
            os._exit(3)
        marker = Path(config["markers"], f"died-{ctx.replicate}")
        if ctx.replicate == 3 and not marker.exists():
            marker.write_text("once")
            os._exit(3)
    ctx.metrics.add("draw", ctx.rng.random())
    ctx.metrics.add("pid", os.getpid())


def draw(config, ctx):
    ctx.metrics.add("draw", ctx.rng.random() * config.get("scale", 1))
    ctx.metrics.add("pid", os.getpid())


def fails_on_odd(config, ctx):
    ctx.metrics.add("pid", os.getpid())
    if ctx.replicate % 2 == 1:
        raise ValueError(f"odd replicate {ctx.replicate}")


def sleepy(config, ctx):
    """Says which process runs it, then works for a moment (so a test can kill that process)."""
    ctx.emit("pid", pid=os.getpid())
    deadline = time.monotonic() + config.get("seconds", 0.3)
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        time.sleep(0.01)
    ctx.metrics.add("draw", ctx.rng.random())


def waits_for_the_stop(config, ctx):
    """Replicate 0 returns at once; later ones wait (bounded) until the run starts no new
    replicate, then finish: the replicates running at a stop, whatever the machine's speed."""
    ctx.emit("begin", pid=os.getpid())
    deadline = time.monotonic() + 30
    while ctx.replicate >= 1 and not ctx.stopping and time.monotonic() < deadline:
        time.sleep(0.01)
    ctx.metrics.add("win", ctx.treatment != "baseline")
