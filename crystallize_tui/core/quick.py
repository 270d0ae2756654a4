"""The on-ramp: ``quick_experiment(fn, configs, replicates)`` for a function you already have."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Coroutine, Mapping
from types import CoroutineType
from typing import Any

from .errors import ConfigError, ReplicateError
from .experiment import Experiment
from .pipeline import takes_context
from .plugins.base import Plugin
from .seeds import DEFAULT_SEED
from .treatment import BASELINE, Treatment

_PLAIN_NUMBERS = (int, float, bool)


def _as_metrics(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn(config)`` or ``fn(config, ctx)`` so that what it returns becomes metrics:
    a dict of numbers records each entry, a single number or bool records "result".
    An ``async def`` fn gives a coroutine: its result is recorded once it is awaited."""
    with_ctx = takes_context(fn)

    def step(config: Any, ctx: Any) -> Any:
        out = fn(config, ctx) if with_ctx else fn(config)
        if type(out) is dict:  # the usual case, inline: this runs once per replicate
            add = ctx.metrics.add
            for name, value in out.items():
                if type(value) in _PLAIN_NUMBERS or isinstance(value, numbers.Real):
                    add(name if type(name) is str else str(name), value)
        elif type(out) is CoroutineType:
            return _record_when_done(out, ctx)  # the engine runs it on the replicate's loop
        else:
            _record(out, ctx)
        return out

    step.__name__ = getattr(fn, "__name__", "fn")
    step.__qualname__ = getattr(fn, "__qualname__", step.__name__)
    return step


def _record(out: Any, ctx: Any) -> None:
    """Record what the user's function returned as this replicate's metrics."""
    # Exact types first: the ABC checks cost microseconds per replicate, the on-ramp's budget.
    if type(out) is dict or isinstance(out, Mapping):
        add = ctx.metrics.add
        for name, value in out.items():
            if type(value) in _PLAIN_NUMBERS or isinstance(value, numbers.Real):
                add(name if type(name) is str else str(name), value)
    elif type(out) in _PLAIN_NUMBERS or isinstance(out, numbers.Real):
        ctx.metrics.add("result", out)


async def _record_when_done(coro: Coroutine[Any, Any, Any], ctx: Any) -> Any:
    out = await coro
    _record(out, ctx)
    return out


def quick_experiment(
    fn: Callable[..., Any],
    configs: Mapping[str, Any],
    replicates: int = 5,
    seed: int = DEFAULT_SEED,
    *,
    plugins: list[Plugin] | None = None,
    name: str | None = None,
    store: Any = None,
    metric_bounds: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, list[Any]]]:
    """Run ``fn`` on each config ``replicates`` times; return name -> metric -> values.

    ``fn`` takes ``(config)`` or ``(config, ctx)`` and may be ``async def``; it records metrics with
    ``ctx.metrics.add`` or returns them (a dict of numbers, or one number as "result").
    The "baseline" entry (else the first) is the baseline; the others are compared to it
    as whole-config treatments. Replicate k gets the same seed under every config.
    Failed replicates show as None, with a warning; if all fail the first error is raised.
    Each config is a mapping (dict) of config values.

    Results stay in memory: a quick look writes nothing to disk. Pass ``store`` (a path
    or a Store) to record the run like ``Experiment.run`` does, e.g. to open it in the UI.
    ``metric_bounds`` (``{"score": (0, 100)}``): what the stored run's anytime rows assume,
    as ``Experiment(metric_bounds=...)``.
    """
    if not isinstance(configs, Mapping) or not configs:
        raise ConfigError("quick_experiment: configs must be a non-empty dict of name -> config")
    for key, config in configs.items():
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"quick_experiment: config {key!r} must be a mapping (dict) of config values, "
                f"got {type(config).__name__} {config!r}"
            )
    names = list(configs)
    base_name = BASELINE if BASELINE in configs else names[0]
    others = [n for n in names if n != base_name]
    experiment = Experiment(
        name=name or getattr(fn, "__name__", "quick_experiment"),
        datasource=configs[base_name],
        pipeline=[_as_metrics(fn)],
        replicates=replicates,
        seed=seed,
        plugins=list(plugins or []),
        treatments=[Treatment(n, datasource=configs[n]) for n in others],
        store=store,
        metric_bounds=metric_bounds,
    )
    result = experiment.run()
    errors = result.errors if result.status != "completed" else []  # completed: none failed
    if errors and len(errors) == len(result.replicate_results):
        first = errors[0]
        raise ReplicateError(
            f"every replicate failed; first ({first.treatment} #{first.replicate}, seed "
            f"{first.seed}): {first.error}\n{first.traceback}"
        )
    if errors:
        first = errors[0]
        warnings.warn(
            f"{len(errors)} replicate(s) failed and show as None; first "
            f"({first.treatment} #{first.replicate}): {first.error}",
            RuntimeWarning,
            stacklevel=2,
        )
    out: dict[str, dict[str, list[Any]]] = {}
    for n in names:
        condition = BASELINE if n == base_name else n
        out[n] = dict(result.metrics[condition].metrics)
    return out

