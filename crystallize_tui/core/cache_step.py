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
from .cache_reads import ConfigDigest, ConfigReads
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
    """One call of a cached step: its keys, worked out before it runs, and what it read."""

    cache: StepCache
    step: StepSpec
    base: str  # the step's code and input
    config: Any  # the replicate's config as the step got it
    digest: ConfigDigest  # ... as it was before the step ran
    seed: int
    random_before: tuple[Any, Any]
    metrics_mark: int
    started: float = 0.0
    reads: ConfigReads | None = None
    config_changed: bool = False

    def _keys(self, keys: list[str] | None) -> tuple[str, str]:
        plain = combine(self.base, keys, self.digest.part(keys))
        return plain, combine(plain, self.seed, self.random_before)

    def find(self, ctx: StepContext, data: Any) -> tuple[bool, Any]:
        """On a hit: restore the entry's metrics and random state, log the hit and return
        ``(True, output)``. Else ``(False, data)`` with the data to call the step with: a
        dict config is handed over as a ConfigReads, noting the keys the step reads."""
        entry = None
        for keys in [None, *self.cache.read_sets(self.step.name, self.base)]:
            plain, seeded = self._keys(keys)
            if self.step.cache != "seeded":
                entry = self.cache.get(self.step.name, plain)
            if entry is None:
                entry = self.cache.get(self.step.name, seeded)
            if entry is not None:
                break
        if entry is None:
            if type(self.config) is dict:
                self.reads = ConfigReads(self.config)
                ctx.config = self.reads
                if data is self.config:
                    data = self.reads
            self.started = time.perf_counter()
            return False, data
        for name, value in entry.metrics:
            ctx.metrics.add(name, value)
        ctx.set_random_state(entry.rng_state, entry.np_state)
        output = entry.output
        if type(self.config) is dict:  # what the step did to its config, done again
            if entry.config_after is not None:
                dict.clear(self.config)
                dict.update(self.config, entry.config_after)
            if entry.output_is_config:
                output = self.config
        ctx.log(f"{HIT_PREFIX}{self.step.name} (saved {saved_text(entry.seconds)})")
        return True, output

    def keep(self, ctx: StepContext, output: Any) -> Any:
        """Store what the step returned (a step whose output does not pickle is told once
        and stays uncached); the output, with the config in place of its tracking copy."""
        seconds = time.perf_counter() - self.started
        keys = self.reads.read_keys() if self.reads is not None else None
        output = self.release(ctx, output)
        after = ctx.random_state()
        moved = tuple(a if a != b else None for a, b in zip(after, self.random_before, strict=True))
        seeded = self.step.cache == "seeded" or any(m is not None for m in moved)
        entry = Entry(output, ctx.metrics.items()[self.metrics_mark:], *moved, seconds, self.step.name,
                      self.config if self.config_changed else None,
                      output is self.config and type(self.config) is dict)
        plain, seeded_key = self._keys(keys)
        try:
            too_large = self.cache.put(self.step.name, seeded_key if seeded else plain, entry)
            if too_large is not None:
                _warn_once(ctx, self.step.name, "size", f"is not cached: its entry ({too_large:,} bytes) "
                           f"is larger than the cache limit ({self.cache.limit:,} bytes: "
                           "run.cache_limit or $CRYSTALLIZE_CACHE_LIMIT)")
            elif keys is not None:
                self.cache.add_read_set(self.step.name, self.base, keys)
        except Exception as exc:  # pickling the output (or a full disk): run on uncached
            _warn_once(ctx, self.step.name, "output",
                       f"is not cached: its output could not be stored ({type(exc).__name__}: {exc})")
        return output

    def release(self, ctx: StepContext, output: Any = None) -> Any:
        """Put the replicate's own config back (with what the step changed in it); an
        output that was the tracking copy becomes the config itself."""
        reads, self.reads = self.reads, None
        if reads is None:
            return output
        reads.on = False
        if ctx.config is reads:
            ctx.config = self.config
        after = dict(dict.items(reads))
        try:  # nested values are shared with the copy: compare digests, not the mappings
            changed = ConfigDigest(after).whole != self.digest.whole
        except Unhashable:
            changed = True
        if changed:  # the step changed its config: keep that, and redo it on a hit
            self.config_changed = True
            dict.clear(self.config)
            dict.update(self.config, after)
        return self.config if output is reads else output


def probe(cache: StepCache, step: StepSpec, data: Any, ctx: StepContext) -> Probe | None:
    """The keys of this call, or None (told once) when its input or config cannot be hashed."""
    config = ctx.config
    try:
        code = code_key(step.fn)
        # A first step gets the config itself: what it reads of it is its input.
        data_key = "config" if data is config else stable_hash(data)
        digest = ConfigDigest(config)
    except Unhashable as exc:
        _warn_once(ctx, step.name, "input", f"runs uncached: its input or config cannot be hashed ({exc})")
        return None
    return Probe(cache, step, combine(code, data_key), config, digest, ctx.seed, ctx.random_state(),
                 len(ctx.metrics.items()))


def opener(cache_dir: str | None, limit: int | None = None) -> Callable[[], StepCache | None]:
    """The process's StepCache for ``cache_dir``, made when a cached step first runs."""
    made: list[StepCache] = []

    def get() -> StepCache | None:
        if cache_dir is None:
            return None
        if not made:
            made.append(StepCache(os.fspath(cache_dir), limit))
        return made[0]

    return get
