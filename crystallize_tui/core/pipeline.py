"""Pipeline steps: ``@pipeline_step()`` and how any callable becomes a step."""

from __future__ import annotations

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


def pipeline_step(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, retries: int = 0
) -> Any:
    """Mark a function as a pipeline step, optionally naming it and allowing retries.

    Works as ``@pipeline_step()``, ``@pipeline_step`` and ``@pipeline_step(retries=2)``.
    The function itself is returned (with options attached), so it stays a plain
    function: callable in tests and picklable by reference for worker processes.
    """
    if not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"pipeline_step: retries must be a whole number >= 0, got {retries!r}")

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise ConfigError(f"pipeline_step must decorate a function, got {func!r}")
        setattr(func, _MARK, StepOptions(name=name, retries=retries))
        return func

    return mark(fn) if fn is not None else mark


@dataclass(frozen=True)
class StepSpec:
    """A resolved step: the function, its display name, retries, and whether it takes ctx."""

    fn: Callable[..., Any]
    name: str
    retries: int
    takes_ctx: bool


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
    return StepSpec(fn=fn, name=name, retries=opts.retries, takes_ctx=takes_context(fn))
