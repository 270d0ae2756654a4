"""The execution run options (backend, workers, concurrency, grace, start_method): an experiment's
defaults, what a ParallelExecution plugin or ``-w N`` ask for, resolved to one backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from . import backend_class, backend_for
from .base import Backend

SERIAL: dict[str, Any] = {"backend": "serial"}
OPTIONS = ("backend", "workers", "concurrency", "grace", "start_method")
DEFAULT_POOL = "processes"  # what workers > 1 means when nothing names a backend
DEFAULT_WORKERS = 4  # a pool asked for by name alone, as ParallelExecution() gives


def check_workers(value: Any, what: str = "workers") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a whole number >= 1, got {value!r}")
    return value


def execution_of(mapping: Mapping[str, Any], what: str = "execution") -> dict[str, Any]:
    """A checked execution mapping (``{"backend": "threads", "workers": 2}``) from an
    experiment's ``execution=`` or a YAML ``run:`` section; workers alone pick a pool
    (> 1) or serial (1), as ``-w N`` does."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"{what} must be a mapping like {{'backend': 'processes', 'workers': 4}}, "
                          f"got {mapping!r}")
    settings = {k: v for k, v in mapping.items() if k != "backend"}
    try:
        chosen = resolve(SERIAL, mapping.get("backend"), settings)
        backend_for(**chosen)  # every setting checked now, not when the run starts
    except ConfigError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    return chosen


def resolve(default: Mapping[str, Any], backend: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The execution a run uses: ``default`` (the experiment's) changed by the run's own
    ``backend`` and settings (None: not given). ``workers`` without a backend keeps the
    default's pool kind for > 1 (processes if the default is serial) and means serial for 1;
    ``concurrency`` without a backend means the async backend;
    a backend without workers keeps the default's count if it is a pool, else 4. Settings
    of the default that the chosen backend has no use for are dropped; given ones are not."""
    given = {k: v for k, v in settings.items() if v is not None}
    if backend is None and not given:
        return dict(default)
    workers = given.get("workers")
    if workers is not None:
        check_workers(workers)
    if backend is None and "concurrency" in given and default["backend"] != "async":
        backend = "async"  # only the async backend has a concurrency: asking for one picks it
    same = backend is None or backend == default["backend"]
    if backend is None:
        if workers == 1 and set(given) == {"workers"}:
            backend = "serial"
        elif default["backend"] == "serial":
            backend = DEFAULT_POOL if workers is not None and workers > 1 else "serial"
        else:
            backend = default["backend"]
    cls = backend_class(backend)
    inherited = {k: v for k, v in default.items() if k != "backend" and k in cls.SETTINGS}
    if not same and (default["backend"] == "serial" or not getattr(cls, "pooled", True)):
        # A pool's worker count is not how many async tasks fly: --backend async alone gets
        # its own default concurrency.
        inherited.pop("workers", None)
    if "workers" in given and "concurrency" not in given:
        inherited.pop("concurrency", None)  # -w N with async: N in flight, whatever the default said
    if "concurrency" in given and "workers" not in given:
        inherited.pop("workers", None)  # --concurrency N: N in flight, not the default pool's workers
    chosen: dict[str, Any] = {"backend": backend, **inherited, **given}
    if backend != "serial" and "workers" not in chosen and getattr(cls, "pooled", True):
        chosen["workers"] = DEFAULT_WORKERS  # (the async backend has its own default concurrency)
    if backend == "serial" and "workers" not in given:
        chosen.pop("workers", None)
    return chosen


def build(default: Mapping[str, Any], backend: str | None, settings: Mapping[str, Any]) -> Backend:
    """The Backend for a run: ``resolve`` then ``backend_for``."""
    chosen = resolve(default, backend, settings)
    name = chosen.pop("backend")
    return backend_for(name, **chosen)
