"""A cached step inside one replicate: look its output up, restore it, or store it after running."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import Entry, StepCache
from .cache_keys import Unhashable, code_key, combine, stable_hash
from .context import StepContext
from .pipeline import StepSpec

HIT_PREFIX = "cache hit: "
# (step, reason) pairs already told in this process: a warning per replicate would bury
# the output.
_warned: set[tuple[str, str]] = set()


def cache_dir_for(store_path: str | os.PathLike[str] | None) -> Path:
    """The cache beside the run's store file, else beside the workspace's default store."""
    if store_path is not None:
        return Path(store_path).expanduser().resolve().parent / "cache"
    from .store.store import default_store_path

    return default_store_path().parent / "cache"


_SAVED = re.compile(r"\(saved ([0-9.e+-]+) s\)$")


def hits_summary(lines: list[str]) -> str | None:
    """"cache: 12 steps skipped (saved 27.6 s)" from a run's "cache hit: ..." lines."""
    if not lines:
        return None
    saved = sum(float(m.group(1)) for line in lines if (m := _SAVED.search(line)))
    return f"cache: {len(lines)} step{'s' if len(lines) != 1 else ''} skipped (saved {saved_text(saved)})"


def saved_text(seconds: float) -> str:
    """"2.3 s", "0.012 s": what a hit saved, for people."""
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s"


def _warn_once(ctx: StepContext, step: str, reason: str, text: str) -> None:
    if (step, reason) in _warned:
        return
    _warned.add((step, reason))
    ctx.log(f"cache: {step} {text}")


@dataclass
class Probe:
    """The keys of one call of a cached step, worked out before it runs."""

    cache: StepCache
    step: StepSpec
    plain_key: str  # code, input and config
    seeded_key: str  # ... and the replicate's seed and random state
    random_before: tuple[Any, Any]
    metrics_mark: int
    started: float = 0.0

    def find(self, ctx: StepContext) -> Any:
        """On a hit: restore the entry's metrics and random state, log the hit and return
        ``(True, output)``; else ``(False, None)``."""
        entry = None
        if self.step.cache != "seeded":
            entry = self.cache.get(self.step.name, self.plain_key)
        if entry is None:
            entry = self.cache.get(self.step.name, self.seeded_key)
        if entry is None:
            self.started = time.perf_counter()
            return False, None
        for name, value in entry.metrics:
            ctx.metrics.add(name, value)
        ctx.set_random_state(entry.rng_state, entry.np_state)
        ctx.log(f"{HIT_PREFIX}{self.step.name} (saved {saved_text(entry.seconds)})")
        return True, entry.output

    def keep(self, ctx: StepContext, output: Any) -> None:
        """Store what the step returned (a step whose output does not pickle is told once
        and stays uncached)."""
        seconds = time.perf_counter() - self.started
        after = ctx.random_state()
        moved = tuple(a if a != b else None for a, b in zip(after, self.random_before, strict=True))
        seeded = self.step.cache == "seeded" or any(m is not None for m in moved)
        entry = Entry(output, ctx.metrics.items()[self.metrics_mark:], *moved, seconds, self.step.name)
        try:
            too_large = self.cache.put(self.step.name, self.seeded_key if seeded else self.plain_key, entry)
            if too_large is not None:
                _warn_once(ctx, self.step.name, "size", f"is not cached: its entry ({too_large:,} bytes) "
                           f"is larger than the cache limit ({self.cache.limit:,} bytes, $CRYSTALLIZE_CACHE_LIMIT)")
        except Exception as exc:  # pickling the output (or a full disk): run on uncached
            _warn_once(ctx, self.step.name, "output",
                       f"is not cached: its output could not be stored ({type(exc).__name__}: {exc})")


def probe(cache: StepCache, step: StepSpec, data: Any, ctx: StepContext) -> Probe | None:
    """The keys of this call, or None (told once) when its input or config cannot be hashed."""
    try:
        code = code_key(step.fn)
        data_key = stable_hash(data)
        config_key = data_key if data is ctx.config else stable_hash(ctx.config)
    except Unhashable as exc:
        _warn_once(ctx, step.name, "input", f"runs uncached: its input or config cannot be hashed ({exc})")
        return None
    plain = combine(code, data_key, config_key)
    random_before = ctx.random_state()
    try:
        seeded = combine(plain, ctx.seed, random_before)
    except Unhashable:  # a random state always hashes; kept for safety
        return None
    return Probe(cache, step, plain, seeded, random_before, len(ctx.metrics.items()))


def opener(cache_dir: str | None) -> Callable[[], StepCache | None]:
    """The process's StepCache for ``cache_dir``, made when a cached step first runs."""
    made: list[StepCache] = []

    def get() -> StepCache | None:
        if cache_dir is None:
            return None
        if not made:
            made.append(StepCache(os.fspath(cache_dir)))
        return made[0]

    return get
