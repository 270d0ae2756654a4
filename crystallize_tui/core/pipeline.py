"""Pipeline steps: ``@pipeline_step()`` and how any callable becomes a step."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

_MARK = "__crystallize_step__"


@dataclass(frozen=True)
class StepOptions:
    name: str | None = None
    retries: int = 0
    cache: bool | str = False


# cache=True: keyed by code, input and config, and by the replicate's random state when the
# step draws from ctx.rng / ctx.np_rng; "seeded": always by the seed (core/cache_step.py).
CACHE_CHOICES = (False, True, "seeded")


def pipeline_step(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, retries: int = 0,
    cache: bool | str = False,
) -> Any:
    """Mark a function as a pipeline step, optionally naming it, allowing retries and
    caching its output (``cache=True`` or ``cache="seeded"``; see README "Caching").

    Works as ``@pipeline_step()``, ``@pipeline_step`` and ``@pipeline_step(retries=2)``.
    The function itself is returned (with options attached), so it stays a plain
    function: callable in tests and picklable by reference for worker processes.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"pipeline_step: retries must be a whole number >= 0, got {retries!r}")
    if cache is not True and cache is not False and cache != "seeded":
        raise ConfigError(f"pipeline_step: cache must be True, False or \"seeded\", got {cache!r}")

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise ConfigError(f"pipeline_step must decorate a function, got {func!r}")
        setattr(func, _MARK, StepOptions(name=name, retries=retries, cache=cache))
        return func

    return mark(fn) if fn is not None else mark


@dataclass(frozen=True)
class StepSpec:
    """A resolved step: the function, its display name, retries, and whether it takes ctx."""

    fn: Callable[..., Any]
    name: str
    retries: int
    takes_ctx: bool
    cache: bool | str = False


def takes_context(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` accepts a second positional argument (the ctx)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: pass ctx
        return True
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    if len(positional) >= 2:
        return True
    # fn(data, ctx=None) style: an optional second positional parameter named ctx
    return any(p.name == "ctx" for p in params)


def to_step(fn: Any, position: int) -> StepSpec:
    if not callable(fn):
        raise ConfigError(f"pipeline step {position} is not callable: {fn!r}")
    opts: StepOptions = getattr(fn, _MARK, None) or StepOptions()
    name = opts.name or getattr(fn, "__name__", None) or type(fn).__name__
    return StepSpec(fn=fn, name=name, retries=opts.retries, takes_ctx=takes_context(fn),
                    cache=opts.cache)


def with_arguments(fn: Callable[..., Any], arguments: dict[str, Any]) -> Callable[..., Any]:
    """``fn`` with fixed keyword ``arguments`` (YAML ``with:``): a partial that keeps the
    step's name and options and pickles by reference to ``fn`` for worker processes."""
    bound = functools.partial(fn, **arguments)
    opts: StepOptions = getattr(fn, _MARK, None) or StepOptions()
    name = opts.name or getattr(fn, "__name__", None) or type(fn).__name__
    setattr(bound, _MARK, StepOptions(name=name, retries=opts.retries, cache=opts.cache))
    return bound
