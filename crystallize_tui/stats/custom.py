"""Your own test: a function of the two samples whose p-value (and effect, interval) fills a Comparison."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ._builder import Builder
from ._data import DataError, read_side
from .comparison import Comparison
from .results import check_options

P_KEYS = ("p_value", "pvalue", "p")
CI_KEYS = ("ci", "interval", "confidence_interval")


class _BadAnswer(Exception):
    """The function returned something that is not a p-value (with an effect, interval)."""


def custom_comparison(
    fn: Callable[..., Any],
    name: str,
    baseline: Any,
    treatment: Any,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> Comparison:
    """Compare with the user's ``fn(baseline, treatment)``: numpy arrays paired by replicate
    (pairs with a missing side dropped). It returns a p-value, a tuple ``(p, effect,
    (low, high))`` (the last two optional), or a mapping with ``p_value`` (or ``p``) and
    optionally ``effect``, ``ci`` (or ``ci_low``/``ci_high``) and ``statistic``. A function
    that takes ``alternative=`` is told the hypothesis' direction. Whatever it raises or
    returns that is not a probability becomes an inconclusive row naming the function,
    never an exception."""
    check_options(alternative, confidence)
    out = Builder(alternative, alpha, confidence)
    out.paired = True
    out.fields.update(test=name, method=f"your test {name}")
    try:
        base, treat = read_side(baseline, "baseline"), read_side(treatment, "treatment")
    except DataError as exc:
        return out.inconclusive(exc.reason, str(exc))
    if len(base) != len(treat):
        return out.inconclusive("lengths differ", f"{name} compares pairs: got {len(base)} baseline "
                                f"and {len(treat)} treatment values")
    xa, xb = out.clean(base, treat)
    if not xa:
        return out.inconclusive("no data", "no complete pair of values to give the test")
    import numpy as np

    kwargs = {"alternative": alternative} if _takes_alternative(fn) else {}
    if not kwargs and alternative != "two-sided":
        out.notes.append(f"{name} takes no alternative=: its p-value is used as it is for the "
                         f"{alternative} hypothesis")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            answer = fn(np.asarray(xa, dtype=float), np.asarray(xb, dtype=float), **kwargs)
        except Exception as exc:  # the user's code: its failure belongs in the row
            return out.inconclusive("test failed", f"{name} raised {type(exc).__name__}: {exc}")
    for message in dict.fromkeys(str(w.message) for w in caught):
        out.notes.append(f"warning from {name}: {message}")
    try:
        p, effect, low, high, statistic = _read_answer(answer)
    except _BadAnswer as exc:
        return out.inconclusive("test failed", f"{name} returned {exc}")
    out.fields.update(p_value=p, effect=effect, effect_name=f"effect ({name})" if effect is not None else None,
                      ci_low=low, ci_high=high, ci_method=name if low is not None else None,
                      statistic=statistic)
    return out.comparison()


def unavailable(name: str, reason: str, *, alternative: str = "two-sided", alpha: float = 0.05,
                confidence: float = 0.95) -> Comparison:
    """The row of a test that could not be had (its function cannot be loaded)."""
    out = Builder(alternative, alpha, confidence)
    out.paired = True
    out.fields.update(test=name)
    return out.inconclusive("test unavailable", reason)


def _takes_alternative(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "alternative" or p.kind is p.VAR_KEYWORD for p in params)


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _BadAnswer(f"a bool as {what}: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _BadAnswer(f"{what} {value!r}, not a number") from None
    if math.isnan(number):
        raise _BadAnswer(f"{what} NaN")
    return number


def _read_answer(answer: Any) -> tuple[float, float | None, float | None, float | None, float | None]:
    effect = ci = statistic = low = high = None
    if isinstance(answer, Mapping):
        key = next((k for k in P_KEYS if k in answer), None)
        if key is None:
            raise _BadAnswer(f"a mapping without a p-value (keys: {', '.join(map(str, answer))}); "
                             f"give one of {', '.join(P_KEYS)}")
        p = answer[key]
        effect, statistic = answer.get("effect"), answer.get("statistic")
        ci = next((answer[k] for k in CI_KEYS if k in answer), None)
        low, high = answer.get("ci_low"), answer.get("ci_high")
    elif isinstance(answer, (tuple, list)):
        if not 1 <= len(answer) <= 3:
            raise _BadAnswer(f"a {type(answer).__name__} of {len(answer)} values; expected (p), "
                             "(p, effect) or (p, effect, (low, high))")
        p, effect, ci = (*answer, None, None)[:3]
    elif hasattr(answer, "pvalue"):  # a scipy result object
        p, statistic = answer.pvalue, getattr(answer, "statistic", None)
    else:
        p = answer
    p = _number(p, "p-value")
    if p is None or not 0.0 <= p <= 1.0:
        raise _BadAnswer(f"p-value {p!r}, not a probability in [0, 1]")
    if ci is not None:
        if not isinstance(ci, (tuple, list)) or len(ci) != 2:
            raise _BadAnswer(f"interval {ci!r}; expected (low, high)")
        low, high = ci
    low, high = _number(low, "interval bound"), _number(high, "interval bound")
    if low is not None and high is not None and low > high:
        raise _BadAnswer(f"interval ({low:g}, {high:g}) whose low bound is above its high one")
    return p, _number(effect, "effect"), low, high, _number(statistic, "statistic")
