"""ParallelExecution: the older way to ask for worker threads or processes (now the run
options ``backend`` and ``workers``, which this plugin sets for the experiment)."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError
from .base import Plugin

KINDS = ("process", "thread", "async")


class ParallelExecution(Plugin):
    """Run replicates on ``max_workers`` worker processes (default) or threads, or (kind
    "async") as ``max_concurrency`` asyncio tasks of one event loop (backend "async").

    Kept for compatibility: it sets the experiment's default run options (``kind``
    "process" or "thread" is backend "processes" or "threads", ``max_workers`` is
    ``workers``); ``run(backend=..., workers=...)`` or the YAML's ``run:`` section are
    the way to ask for workers now. Results are identical to a serial run with the same seed: every replicate's seed
    depends only on the base seed and its index. ``grace`` is how long (seconds) a cancel
    waits for process workers to reach a cancellation point before terminating them.
    ``start_method`` picks the multiprocessing start method; by default "fork" where it
    is safe (POSIX, called from a process with one thread) and "spawn" otherwise.
    """

    def __init__(
        self,
        max_workers: int | None = 4,
        kind: str = "process",
        *,
        grace: float = 2.0,
        start_method: str | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ConfigError(f"ParallelExecution: kind must be one of {KINDS}, got {kind!r}")
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ConfigError(
                f"ParallelExecution: max_workers must be a whole number >= 1, got {max_workers!r}"
            )
        self.max_workers = max_workers
        self.kind = kind
        self.grace = grace
        self.start_method = start_method
        if max_concurrency is not None and kind != "async":
            raise ConfigError(f"ParallelExecution: max_concurrency is for kind='async', not {kind!r}")
        if kind == "async":
            from ..backends.async_loop import DEFAULT_CONCURRENCY, check_concurrency

            max_concurrency = check_concurrency(DEFAULT_CONCURRENCY if max_concurrency is None
                                                else max_concurrency)
        self.max_concurrency = max_concurrency

    def execution(self) -> dict[str, Any]:
        """The run options this plugin stands for (one thread worker is serial, as before)."""
        if self.kind == "thread" and self.max_workers == 1:
            return {"backend": "serial"}
        if self.kind == "async":
            return {"backend": "async", "concurrency": self.max_concurrency, "grace": self.grace}
        chosen: dict[str, Any] = {"backend": "threads" if self.kind == "thread" else "processes",
                                  "workers": self.max_workers, "grace": self.grace}
        if self.kind == "process":
            chosen["start_method"] = self.start_method
        return chosen

    def __repr__(self) -> str:
        return f"ParallelExecution(max_workers={self.max_workers}, kind={self.kind!r})"


def with_workers(plugins: list[Plugin], workers: int) -> list[Plugin]:
    """``plugins`` with parallel execution set to ``workers`` (1: serial): only the count
    changes; the kind, start method and grace the experiment asked for are kept."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be a whole number >= 1, got {workers!r}")
    old = next((p for p in plugins if isinstance(p, ParallelExecution)), None)
    kept = [p for p in plugins if not isinstance(p, ParallelExecution)]
    if workers > 1:
        kept.append(ParallelExecution(max_workers=workers) if old is None else ParallelExecution(
            max_workers=workers, kind=old.kind, grace=old.grace, start_method=old.start_method))
    return kept
