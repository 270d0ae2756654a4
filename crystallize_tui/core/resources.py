"""Resources shared across replicates: heavy objects built once per process, lazily, closed at the end.

A resource is a plain function that builds the object (a model, an API client, a
dataset). Declared with ``@resource`` or ``Experiment(resources={"name": fn})`` (YAML:
``resources: {name: module:function}``), it is built the first time a step asks for
``ctx.resources["name"]`` in a process (serial: the run's process; pools and Dask: each
worker; async: once, shared by the tasks) and kept until the run ends there. A
generator function is setup and teardown: what it yields is the resource, the rest runs
at the end; otherwise an object with ``close()`` is closed at the end. A function with a
parameter named ``config`` is called with the replicate's config and built once per
distinct config (keyed by its canonical JSON).
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .errors import ConfigError, CrystallizeError
from .fingerprint import canonical_json

_MARK = "__crystallize_resource__"
_declared: dict[str, Callable[..., Any]] = {}  # by @resource, in this process


class UnknownResource(KeyError):
    """``ctx.resources[name]`` for a name nobody declared; the message lists those declared."""

    def __str__(self) -> str:
        return str(self.args[0])


class ResourceFailed(CrystallizeError):
    """A resource whose builder failed earlier in this process (the first use raised its error)."""


def resource(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Declare a resource: ``@resource`` or ``@resource(name="model")``. The function
    itself is returned (still a plain function, picklable by reference)."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        key = check_builder(name or getattr(func, "__name__", ""), func)
        setattr(func, _MARK, key)
        _declared[key] = func
        return func

    return mark(fn) if fn is not None else mark


def check_builder(name: Any, fn: Any) -> str:
    """``name`` if it and ``fn`` make a usable resource, else a ConfigError naming it."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"resource names must be identifiers, got {name!r}")
    if not callable(fn):
        raise ConfigError(f"resource {name!r}: {fn!r} is not a function")
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise ConfigError(f"resource {name!r}: {getattr(fn, '__name__', fn)} is async; a resource is "
                          "built by a plain function (or a generator for setup and teardown)")
    return name


def resources_of(value: Any) -> dict[str, Callable[..., Any]]:
    """An experiment's ``resources=``: a mapping name -> function, or functions marked with
    ``@resource`` (named by it); checked, a ConfigError names the bad entry."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {check_builder(name, fn): fn for name, fn in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        chosen: dict[str, Callable[..., Any]] = {}
        for fn in value:
            name = getattr(fn, _MARK, None)
            if name is None:
                raise ConfigError(f"resources: {fn!r} is not marked with @resource; pass a mapping "
                                  "{'name': function} instead")
            chosen[name] = fn
        return chosen
    raise ConfigError(f"resources must be a mapping {{'name': function}} or a list of @resource "
                      f"functions, got {value!r}")


def declared() -> dict[str, Callable[..., Any]]:
    """The resources ``@resource`` declared in this process so far."""
    return dict(_declared)


def _takes_config(fn: Callable[..., Any]) -> bool:
    try:
        return "config" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class ResourcePool:
    """The resources of one run in one process: built at first use, closed by ``close``."""

    def __init__(self, builders: Mapping[str, Callable[..., Any]]) -> None:
        self.builders = dict(builders)
        self._per_config = {name: _takes_config(fn) for name, fn in self.builders.items()}
        self._built: dict[tuple[str, str], Any] = {}
        self._failed: dict[tuple[str, str], str] = {}
        self._teardown: list[tuple[str, Any]] = []  # in build order: closed last-built first
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.closed = False

    def names(self) -> list[str]:
        """The resources a step may ask for: the run's, and those @resource declared here."""
        return sorted({*self.builders, *_declared})

    def get(self, name: str, config: Any) -> Any:
        # @resource functions are looked up here, not shipped with the plan: a worker
        # process declares them again when it imports the steps' module.
        fn = self.builders.get(name) or _declared.get(name)
        if fn is None:
            known = ", ".join(self.names()) or "none (declare them with @resource or resources=)"
            raise UnknownResource(f"no resource named {name!r}; declared resources: {known}")
        per_config = self._per_config.get(name)
        if per_config is None:
            per_config = self._per_config[name] = _takes_config(fn)
        key = (name, _config_key(config) if per_config else "")
        try:
            return self._built[key]
        except KeyError:
            pass
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one build per key, also when threads ask at once
            if key in self._built:
                return self._built[key]
            if key in self._failed:
                raise ResourceFailed(f"resource {name!r} could not be built in this process; its "
                                     f"builder failed at first use:\n{self._failed[key]}")
            if self.closed:
                raise ResourceFailed(f"resource {name!r} asked for after the run ended")
            try:
                value = self._build(name, fn, config)
            except Exception as exc:
                self._failed[key] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                raise
            self._built[key] = value
            return value

    def _build(self, name: str, fn: Callable[..., Any], config: Any) -> Any:
        made = fn(config=config) if self._per_config[name] else fn()
        if inspect.isgenerator(made):
            try:
                value = next(made)
            except StopIteration:
                raise ConfigError(f"resource {name!r}: its generator ended without yielding the "
                                  "resource") from None
            self._teardown.append((name, made))
            return value
        if callable(getattr(made, "close", None)):
            self._teardown.append((name, made))
        return made

    def close(self) -> None:
        """Tear down what was built, last built first; a failing teardown is a warning."""
        with self._lock:
            self.closed = True
            teardown, self._teardown = self._teardown, []
        self._built.clear()
        for name, held in reversed(teardown):
            try:
                if inspect.isgenerator(held):
                    try:
                        next(held)
                    except StopIteration:
                        pass
                    else:
                        held.close()
                        warnings.warn(f"resource {name!r}: its generator yielded more than once; "
                                      "the rest was skipped", RuntimeWarning, stacklevel=2)
                else:
                    held.close()
            except Exception as exc:  # noqa: BLE001 - the run's results are kept whatever a teardown does
                warnings.warn(f"resource {name!r}: teardown failed: {type(exc).__name__}: {exc}",
                              RuntimeWarning, stacklevel=2)


def _config_key(config: Any) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()


# -- the pools of the runs going on in this process --------------------------------------

_pools: dict[str, list[Any]] = {}  # run id -> [pool, how many opened it]
_pools_lock = threading.Lock()


class _Opened:
    """What ``open_for`` gives: ``close()`` once when this user of the pool is done."""

    def __init__(self, run_id: str | None) -> None:
        self.run_id = run_id

    def close(self) -> None:
        run_id, self.run_id = self.run_id, None
        if run_id is None:
            return
        with _pools_lock:
            entry = _pools.get(run_id)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _pools[run_id]
        entry[0].close()


def open_for(plan: Any) -> _Opened:
    """Make the plan's resources (and those @resource declares) available to its replicates
    in this process, shared by every thread that opens the same run (thread workers)."""
    builders = getattr(plan, "resources", None) or {}
    with _pools_lock:
        entry = _pools.get(plan.run_id)
        if entry is None:
            entry = _pools[plan.run_id] = [ResourcePool(builders), 0]
        entry[1] += 1
    return _Opened(plan.run_id)


class Resources(Mapping[str, Any]):
    """``ctx.resources``: the run's resources by name, for this replicate's config."""

    __slots__ = ("_pool", "_config")

    def __init__(self, pool: ResourcePool, config: Any) -> None:
        self._pool = pool
        self._config = config

    def __getitem__(self, name: str) -> Any:
        return self._pool.get(name, self._config)

    def __contains__(self, name: object) -> bool:  # a name check, not a build
        return name in self._pool.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._pool.names())

    def __len__(self) -> int:
        return len(self._pool.names())

    def __repr__(self) -> str:
        return f"<resources {', '.join(self._pool.names()) or '(none)'}>"


_standalone: dict[str, ResourcePool] = {}


def resources_for(run_id: str, config: Any) -> Resources:
    """The resources a replicate of run ``run_id`` sees; outside a run (a step called by
    a test with ``standalone_context``), those declared with ``@resource``."""
    entry = _pools.get(run_id)
    if entry is not None:
        return Resources(entry[0], config)
    pool = _standalone.get("declared")
    if pool is None:
        pool = _standalone["declared"] = ResourcePool({})
    return Resources(pool, config)
