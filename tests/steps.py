"""Step functions shared by the engine tests (module-level so worker processes can import them)."""

from __future__ import annotations

import os
import random
import time

from crystallize_tui import pipeline_step


@pipeline_step()
def coin_game(config, ctx):
    """A stochastic step: wins with probability config['p'], draws a few numbers."""
    draws = [ctx.rng.random() for _ in range(3)]
    ctx.metrics.add("win", draws[0] < config["p"])
    ctx.metrics.add("score", round(sum(draws), 12))
    return draws


def global_random_step(config, ctx):
    """Uses the global random module: only reproducible when SeedPlugin seeds it."""
    ctx.metrics.add("x", random.random())


def chatty_step(config, ctx):
    """Prints, emits and records, to see events flow."""
    print(f"start {ctx.treatment} {ctx.replicate}")
    for i in range(config.get("events", 3)):
        ctx.emit("tick", i=i)
    ctx.metrics.add("done", 1)
    print(f"end {ctx.treatment} {ctx.replicate}", end="")  # no trailing newline on purpose


def failing_on_odd(config, ctx):
    if ctx.replicate % 2 == 1:
        raise ValueError(f"odd replicate {ctx.replicate}")
    ctx.metrics.add("v", ctx.replicate)


def slow_step(config, ctx):
    """Emits, then waits, polling cancellation, so a test can watch and cancel mid-run."""
    ctx.emit("begin", pid=os.getpid())
    deadline = time.monotonic() + config.get("seconds", 0.5)
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        time.sleep(0.01)
    ctx.metrics.add("slept", 1)


def stubborn_step(config, ctx):
    """Sleeps without any cancellation point (a step that ignores cancel)."""
    time.sleep(config.get("seconds", 30))
    ctx.metrics.add("slept", 1)


def die_on_replicate_one(config, ctx):
    """Kills its own worker process on replicate 1, as a segfault would."""
    if ctx.replicate == 1 and ctx.treatment == "baseline":
        os._exit(3)
    ctx.metrics.add("v", ctx.replicate)


def loss_curve(config, ctx):
    for epoch in range(3):
        ctx.metrics.add("loss", 1.0 / (epoch + 1 + ctx.replicate))
    ctx.metrics.add("acc", 0.5 + 0.1 * ctx.replicate)


async def async_coin_game(config, ctx):
    """coin_game as an ``async def`` step: awaits, then draws and records the same."""
    import asyncio

    await asyncio.sleep(0)
    print(f"async {ctx.treatment} {ctx.replicate}")
    draws = [ctx.rng.random() for _ in range(3)]
    ctx.metrics.add("win", draws[0] < config["p"])
    ctx.metrics.add("score", round(sum(draws), 12))
    return draws


async def async_double(draws, ctx):
    """A second async step: gets the first one's return value, as in a sync pipeline."""
    import asyncio

    await asyncio.sleep(0)
    ctx.metrics.add("first_draw_doubled", round(2 * draws[0], 12))


def sync_double(draws, ctx):
    ctx.metrics.add("first_draw_doubled", round(2 * draws[0], 12))


def where_it_ran(config, ctx):
    """Records where the replicate ran (this process, a worker thread of it, or another
    process) next to a seeded draw, so a test can tell which backend ran it."""
    import threading

    ctx.metrics.add("pid", os.getpid())
    ctx.metrics.add("ppid", os.getppid())
    ctx.metrics.add("worker_thread", threading.current_thread() is not threading.main_thread())
    ctx.metrics.add("draw", ctx.rng.random() * config.get("scale", 1))
