"""Cached steps for the step-cache tests (module-level so worker processes can import them).

Each call of a cached step appends one line to the file named by config["counter"], so a
test counts how often the step really ran."""

from __future__ import annotations

import threading
from pathlib import Path

from crystallize_tui import pipeline_step


def _count(config, what):
    with open(config["counter"], "a") as f:
        f.write(what + "\n")


@pipeline_step(cache=True)
def prepare(config):
    """Expensive preparation: deterministic in its config."""
    _count(config, "prepare")
    print("preparing")
    return {"base": config["size"] * 10}


@pipeline_step(cache=True)
def noisy(data, ctx):
    """A cached step that draws from ctx.rng and records a metric."""
    _count(ctx.config, "noisy")
    ctx.metrics.add("noise", ctx.rng.random())
    return {**data, "noise": ctx.rng.random()}


def score(data, ctx):
    """Uncached: sees the rng in the state the cached steps left it."""
    ctx.metrics.add("score", data["base"] + data.get("noise", 0) + ctx.rng.random())


def read_input(config):
    """Uncached: the input of the next step comes from a file, not the config."""
    return {"text": Path(config["input"]).read_text()}


@pipeline_step(cache=True)
def measure(data, ctx):
    """Cached, fed by read_input; reads the config's counter and scale."""
    _count(ctx.config, "measure")
    ctx.metrics.add("length", len(data["text"]) * ctx.config.get("scale", 1))


@pipeline_step(cache=True)
def whole_config(config):
    """Sees every key (dict(config)): keyed by the whole config."""
    _count(config, "whole_config")
    return {"base": len(dict(config))}


def unhashable_input(config):
    """Hands a lock (which does not pickle) to the next step."""
    return {"lock": threading.Lock(), "size": config["size"]}


@pipeline_step(cache=True)
def uses_lock(data, ctx):
    _count(ctx.config, "uses_lock")
    ctx.metrics.add("size", data["size"])


@pipeline_step(cache="seeded")
def seeded_prep(config, ctx):
    """Declared seeded: one entry per replicate even though it never touches ctx.rng."""
    _count(config, "seeded_prep")
    return {"base": ctx.seed % 7}


@pipeline_step(cache=True)
def mutate(config):
    """Changes its config in place and returns it (a common first step)."""
    _count(config, "mutate")
    config["added"] = config["size"] + 1
    config["nested"]["seen"] = True  # changed inside a value shared with the copy
    return config


def after_mutate(data, ctx):
    ctx.metrics.add("same", data is ctx.config)
    ctx.metrics.add("added", ctx.config["added"])
    ctx.metrics.add("nested", ctx.config["nested"].get("seen", False))


@pipeline_step(cache=True)
def bump(config):
    """Reads size and changes it in place: the entry is keyed by the size it was given."""
    _count(config, "bump")
    config["size"] += 1
    return {"base": config["size"]}
