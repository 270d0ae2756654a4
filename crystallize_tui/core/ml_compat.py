"""crystallize-ml's step idiom: a step returning ``(data, {"metric": value})`` records those metrics."""

from __future__ import annotations

import numbers
from collections.abc import Coroutine
from typing import Any

# (run id, step) pairs already told about the idiom in this process: one notice per run and step.
_noticed: set[tuple[str, str]] = set()


def is_metrics_pair(out: Any) -> bool:
    """True for ``(data, {"name": number, ...})``: a non-empty mapping of names to numbers."""
    if type(out) is not tuple or len(out) != 2 or not isinstance(out[1], dict) or not out[1]:
        return False
    return all(isinstance(k, str) and isinstance(v, numbers.Real) for k, v in out[1].items())


def unpack(out: Any, ctx: Any, step: str) -> Any:
    """``out`` itself, unless it is crystallize-ml's ``(data, metrics)``: then the metrics are
    recorded (as ``ctx.metrics.add`` would) and ``data`` goes on to the next step, with a
    one-time line in the replicate's log saying so."""
    if not is_metrics_pair(out):
        if len(out) == 2 and isinstance(out[1], dict) and out[1] and all(isinstance(k, str) for k in out[1]):
            _notice(ctx, step, f"note: step {step} returned (data, {{{', '.join(out[1])}}}) with values "
                    "that are not all numbers: kept as the step's data (the whole tuple), not recorded as "
                    "metrics; record metrics with ctx.metrics.add(name, value)")
        return out
    data, metrics = out
    for name, value in metrics.items():
        ctx.metrics.add(name, value)
    _notice(ctx, step, f"note: step {step} returned (data, {{{', '.join(metrics)}}}), crystallize-ml's "
            "way to record metrics: recorded them, and passed data on to the next step "
            "(here: ctx.metrics.add(name, value))")
    return data


async def unpack_awaited(coroutine: Coroutine[Any, Any, Any], ctx: Any, step: str) -> Any:
    """``unpack`` for an ``async def`` step: what its coroutine returns."""
    out = await coroutine
    return unpack(out, ctx, step) if type(out) is tuple else out


def _notice(ctx: Any, step: str, line: str) -> None:
    """``line`` in the replicate's log, once per run and step in this process."""
    key = (ctx.run_id, step)
    if key not in _noticed:
        _noticed.add(key)
        ctx.log(line)
