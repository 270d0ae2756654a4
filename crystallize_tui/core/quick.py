"""The on-ramp: ``quick_experiment(fn, configs, replicates)`` for a function you already have."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigError, ReplicateError
from .experiment import Experiment
from .pipeline import takes_context
from .plugins.base import Plugin
from .seeds import DEFAULT_SEED
from .treatment import BASELINE, Treatment


def _as_metrics(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn(config)`` or ``fn(config, ctx)`` so that what it returns becomes metrics:
    a dict of numbers records each entry, a single number or bool records "result"."""
    with_ctx = takes_context(fn)

    def step(config: Any, ctx: Any) -> Any:
        out = fn(config, ctx) if with_ctx else fn(config)
        if isinstance(out, Mapping):
            for name, value in out.items():
                if isinstance(value, (bool, numbers.Real)):
                    ctx.metrics.add(str(name), value)
        elif isinstance(out, (bool, numbers.Real)):
            ctx.metrics.add("result", out)
        return out

    step.__name__ = getattr(fn, "__name__", "fn")
    step.__qualname__ = getattr(fn, "__qualname__", step.__name__)
    return step


def quick_experiment(
    fn: Callable[..., Any],
    configs: Mapping[str, Any],
    replicates: int = 5,
    seed: int = DEFAULT_SEED,
    *,
    plugins: list[Plugin] | None = None,
    name: str | None = None,
) -> dict[str, dict[str, list[Any]]]:
    """Run ``fn`` on each config ``replicates`` times; return name -> metric -> values.

    ``fn`` takes ``(config)`` or ``(config, ctx)``; it records metrics with
    ``ctx.metrics.add`` or returns them (a dict of numbers, or one number as "result").
    The "baseline" entry (else the first) is the baseline; the others are compared to it
    as whole-config treatments. Replicate k gets the same seed under every config.
    Failed replicates show as None, with a warning; if all fail the first error is raised.
    """
    if not isinstance(configs, Mapping) or not configs:
        raise ConfigError("quick_experiment: configs must be a non-empty dict of name -> config")
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
        treatments=[Treatment(n, datasource=_constant(configs[n])) for n in others],
    )
    result = experiment.run()
    errors = result.errors
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


def _constant(config: Any) -> Callable[[], Any]:
    # A Mapping datasource would be taken as overrides-free config already, but wrapping
    # keeps non-dict configs (lists, objects) working as whole-config swaps too.
    return lambda: config
