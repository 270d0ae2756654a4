"""Conditional (Fisher) odds ratio of a 2x2 table with its exact interval, vectorised."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln

# The same conditional MLE and exact interval as scipy.stats.contingency.odds_ratio
# (and R's fisher.test), but the noncentral hypergeometric distribution is evaluated
# over its whole support with numpy at once: scipy's per-point loop took 1.5 s for a
# table of 10,000 replicates per side.


class _Conditional:
    """Fisher's noncentral hypergeometric law of the table's top-left count."""

    def __init__(self, table: list[list[int]]) -> None:
        (a, b), (c, d) = table
        self.x = a
        col0, col1, row0 = a + c, b + d, a + b
        self.xs = np.arange(max(0, row0 - col1), min(row0, col0) + 1, dtype=float)
        self.log_weight = (_log_choose(col0, self.xs) + _log_choose(col1, row0 - self.xs))
        self.at_low = self.x == self.xs[0]
        self.at_high = self.x == self.xs[-1]

    def probabilities(self, log_psi: float) -> np.ndarray:
        w = self.log_weight + self.xs * log_psi
        p = np.exp(w - w.max())
        return p / p.sum()

    def mean(self, log_psi: float) -> float:
        return float(self.probabilities(log_psi) @ self.xs)

    def cdf(self, log_psi: float) -> float:  # P(X <= x)
        return float(self.probabilities(log_psi)[self.xs <= self.x].sum())

    def sf(self, log_psi: float) -> float:  # P(X >= x)
        return float(self.probabilities(log_psi)[self.xs >= self.x].sum())


def _log_choose(n: int, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _solve_log(func) -> float:
    """Root in log(psi) of an increasing function, bracketed by doubling as scipy does."""
    if func(0.0) == 0.0:
        return 1.0
    step = math.log(2.0)
    if func(0.0) > 0:
        hi = 0.0
        lo = -step
        while func(lo) > 0:
            hi, lo = lo, lo - step
            if lo < -745:  # exp underflows: the root is zero for all practical purposes
                return 0.0
    else:
        lo = 0.0
        hi = step
        while func(hi) < 0:
            lo, hi = hi, hi + step
            if hi > 709:
                return math.inf
    return math.exp(brentq(func, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps))


def conditional_odds_ratio(
    table: list[list[int]], confidence: float = 0.95, alternative: str = "two-sided"
) -> tuple[float, float, float]:
    """(estimate, low, high) for table [[a, b], [c, d]]: the conditional MLE of a*d/(b*c)
    and the exact interval inverting the two one-sided conditional tests.

    Estimate NaN and interval (0, inf) when a row or column is empty, as scipy.
    """
    (a, b), (c, d) = table
    if 0 in (a + b, c + d, a + c, b + d):
        return math.nan, 0.0, math.inf
    law = _Conditional(table)
    if law.at_low:
        estimate = 0.0
    elif law.at_high:
        estimate = math.inf
    else:
        estimate = _solve_log(lambda t: law.mean(t) - law.x)

    def lower(alpha: float) -> float:
        return 0.0 if law.at_low else _solve_log(lambda t: law.sf(t) - alpha)

    def upper(alpha: float) -> float:
        return math.inf if law.at_high else _solve_log(lambda t: alpha - law.cdf(t))

    if alternative == "two-sided":
        alpha = (1.0 - confidence) / 2.0
        return estimate, lower(alpha), upper(alpha)
    if alternative == "less":
        return estimate, 0.0, upper(1.0 - confidence)
    return estimate, lower(1.0 - confidence), math.inf
