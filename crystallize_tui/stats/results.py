"""Small frozen result records shared by every statistical test in the package."""

from __future__ import annotations

import math
from dataclasses import dataclass

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class Effect:
    """One effect-size estimate, with its confidence interval when the method gives one."""

    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class TestResult:
    """Outcome of one primitive test.

    Sign convention everywhere: ``a`` is the baseline, ``b`` the treatment, and a
    difference means ``b - a``. ``estimate`` is the quantity ``ci_low``/``ci_high``
    bound (e.g. the mean difference); ``effect`` is the standardised or
    method-specific effect size, and ``other_effects`` holds any further ones
    (Fisher's test reports the odds ratio there).
    """

    # pytest would otherwise try to collect this class when a test imports it.
    __test__ = False

    test: str
    statistic: float | None
    df: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    effect_name: str | None
    effect: float | None
    alternative: str = "two-sided"
    estimate_name: str | None = None
    estimate: float | None = None
    n_a: int = 0
    n_b: int = 0
    method: str | None = None
    ci_method: str | None = None
    other_effects: tuple[Effect, ...] = ()
    note: str | None = None


def clean_float(x: object) -> float | None:
    """Turn a scipy/numpy scalar into a plain float, and NaN into None.

    Infinities are kept: a one-sided interval really is unbounded on one side.
    """
    if x is None:
        return None
    value = float(x)  # type: ignore[arg-type]
    return None if math.isnan(value) else value


def check_options(alternative: str, confidence: float) -> None:
    """Reject option values that are programming errors rather than data problems."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
