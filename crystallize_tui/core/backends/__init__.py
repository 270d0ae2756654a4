"""Execution backends by name: ``backend_for("processes", workers=4)``, and the registry
that maps names to Backend classes (built-ins are imported when first asked for)."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import ConfigError
from .base import Backend, Publish

# name -> Backend subclass, or "module:Class" imported on first use (so a backend that
# needs a heavy library, e.g. Dask, costs nothing until a run asks for it).
_REGISTRY: dict[str, type[Backend] | str] = {
    "serial": "crystallize_tui.core.backends.serial:SerialBackend",
    "threads": "crystallize_tui.core.backends.pool:ThreadBackend",
    "processes": "crystallize_tui.core.backends.pool:ProcessBackend",
    "dask": "crystallize_tui.core.backends.dask:DaskBackend",  # needs the [dask] extra
    "async": "crystallize_tui.core.backends.async_loop:AsyncBackend",  # tasks of one event loop
}


def register_backend(name: str, backend: type[Backend] | str) -> None:
    """Make ``backend`` (a Backend subclass or "module:Class") available as ``name`` to
    the run option ``backend=``, the YAML's ``run: {backend: ...}`` and ``--backend``.
    The class must be importable by worker processes if it sends the plan to them."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"a backend name must be an identifier, got {name!r}")
    _REGISTRY[name] = backend


def backend_names() -> list[str]:
    """The names ``backend_for`` accepts."""
    return list(_REGISTRY)


def backend_class(name: Any) -> type[Backend]:
    """The Backend class registered as ``name``; a ConfigError listing the valid names if none."""
    entry = _REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ConfigError(f"unknown backend {name!r}; backends: {', '.join(_REGISTRY)}")
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = _REGISTRY[name] = getattr(importlib.import_module(module), attr)
    return entry


def backend_for(backend: str, **settings: Any) -> Backend:
    """A ready Backend: ``backend`` (its name) from the registry with its settings (``workers`` and those
    the backend lists in ``SETTINGS``), each checked; a ConfigError names the bad one."""
    cls = backend_class(backend)
    for key in settings:
        if key not in cls.SETTINGS:
            raise ConfigError(f"backend {backend!r} has no setting {key!r}; its settings: "
                              f"{', '.join(cls.SETTINGS)}")
    return cls(**settings)


__all__ = ["Backend", "Publish", "backend_class", "backend_for", "backend_names", "register_backend"]
