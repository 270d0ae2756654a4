"""SeedPlugin: the base seed, and seeding of global RNGs per replicate."""

from __future__ import annotations

import importlib
import importlib.util
import random
from typing import Any

from ..context import StepContext
from .base import Plugin


class SeedPlugin(Plugin):
    """Set the experiment's base seed; with ``auto_seed`` also seed global RNGs.

    Before each replicate, ``auto_seed=True`` seeds the global ``random`` module, and
    numpy's and torch's global generators when they are installed, with the replicate's
    seed (numpy's legacy global generator takes the seed modulo 2**32). Under
    ``ParallelExecution(kind="thread")`` threads share these globals, so draw from
    ``ctx.rng`` / ``ctx.np_rng`` there instead.
    """

    def __init__(self, seed: int = 0, auto_seed: bool = True) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            from ..errors import ConfigError

            raise ConfigError(f"SeedPlugin: seed must be an integer, got {seed!r}")
        self.seed = seed
        self.auto_seed = auto_seed
        self._seeders: list[Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Module handles do not pickle; a worker process finds its own.
        state = dict(self.__dict__)
        state["_seeders"] = None
        return state

    def _find_seeders(self) -> list[Any]:
        seeders: list[Any] = [random.seed]
        for module, attr, wrap in (
            ("numpy", "random.seed", lambda s: s % (1 << 32)),
            ("torch", "manual_seed", lambda s: s),
        ):
            if importlib.util.find_spec(module) is None:
                continue
            try:
                mod = importlib.import_module(module)
            except Exception:  # an installed but broken package must not stop the run
                continue
            fn = mod
            for part in attr.split("."):
                fn = getattr(fn, part)
            seeders.append(lambda s, fn=fn, wrap=wrap: fn(wrap(s)))
        return seeders

    def before_run(self, run: Any) -> None:
        # Import numpy/torch once here, not inside the first replicate's timing.
        if self.auto_seed and self._seeders is None:
            self._seeders = self._find_seeders()

    def before_replicate(self, ctx: StepContext) -> None:
        if not self.auto_seed:
            return
        if self._seeders is None:
            self._seeders = self._find_seeders()
        for seeder in self._seeders:
            seeder(ctx.seed)

    def __repr__(self) -> str:
        return f"SeedPlugin(seed={self.seed}, auto_seed={self.auto_seed})"
