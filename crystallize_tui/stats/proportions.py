"""Effect sizes for 0/1 samples: risk difference (Newcombe intervals) and odds ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._data import as_floats, require_binary, require_n, require_same_length
from .odds import conditional_odds_ratio
from .results import Effect, check_options, clean_float


@dataclass(frozen=True)
class PairedCounts:
    """Cross-tabulation of paired 0/1 outcomes (baseline a, treatment b)."""

    both: int  # a = 1, b = 1
    only_b: int  # a = 0, b = 1: the treatment succeeded where the baseline did not
    only_a: int  # a = 1, b = 0
    neither: int  # a = 0, b = 0

    @property
    def n(self) -> int:
        return self.both + self.only_b + self.only_a + self.neither


def binary_sample(values: Sequence[float], side: str) -> list[float]:
    xs = as_floats(values, side)
    require_binary(xs, side)
    require_n(xs, 1, side)
    return xs


def paired_counts(a: Sequence[float], b: Sequence[float]) -> PairedCounts:
    xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
    require_same_length(xa, xb)
    va, vb = np.asarray(xa) == 1.0, np.asarray(xb) == 1.0
    return PairedCounts(
        both=int(np.count_nonzero(va & vb)),
        only_b=int(np.count_nonzero(~va & vb)),
        only_a=int(np.count_nonzero(va & ~vb)),
        neither=int(np.count_nonzero(~va & ~vb)),
    )


def two_sided_level(confidence: float, alternative: str) -> float:
    # A one-sided bound at level c is the matching end of a two-sided 2c - 1 interval.
    return confidence if alternative == "two-sided" else 2.0 * confidence - 1.0


def _open_end(low: float, high: float, alternative: str, bounds: tuple[float, float]):
    if alternative == "greater":
        return low, bounds[1]
    if alternative == "less":
        return bounds[0], high
    return low, high


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion k/n (via scipy.stats.binomtest)."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe_interval(
    k_a: int,
    n_a: int,
    k_b: int,
    n_b: int,
    confidence: float = 0.95,
    alternative: str = "two-sided",
) -> tuple[float, float, float]:
    """Difference of independent proportions k_b/n_b - k_a/n_a with Newcombe's
    hybrid score interval (Newcombe 1998, Stat Med 17:873, method 10).

    Returns (difference, low, high). Chosen over the Wald interval because it
    keeps near-nominal coverage at small n and near 0 or 1, where replicate
    counts in experiments usually sit.
    """
    check_options(alternative, confidence)
    level = two_sided_level(confidence, alternative)
    p_a, p_b = k_a / n_a, k_b / n_b
    l_a, u_a = wilson_interval(k_a, n_a, level)
    l_b, u_b = wilson_interval(k_b, n_b, level)
    diff = p_b - p_a
    low = diff - math.hypot(p_b - l_b, u_a - p_a)
    high = diff + math.hypot(u_b - p_b, p_a - l_a)
    low, high = _open_end(low, high, alternative, (-1.0, 1.0))
    return diff, low, high


def newcombe_paired_interval(
    counts: PairedCounts, confidence: float = 0.95, alternative: str = "two-sided"
) -> tuple[float, float, float]:
    """Difference of paired proportions P(b=1) - P(a=1) with Newcombe's score
    interval for paired data (Newcombe 1998, Stat Med 17:2635, method 10).

    Returns (difference, low, high). Like the unpaired version, but the two
    Wilson intervals are combined with the phi correlation of the 2x2 table.
    """
    check_options(alternative, confidence)
    level = two_sided_level(confidence, alternative)
    e, b, c, h, n = counts.both, counts.only_b, counts.only_a, counts.neither, counts.n
    p_b, p_a = (e + b) / n, (e + c) / n
    l_b, u_b = wilson_interval(e + b, n, level)
    l_a, u_a = wilson_interval(e + c, n, level)
    numerator = e * h - b * c
    if numerator > 0:  # Newcombe's continuity adjustment of phi, applied only then
        numerator = max(numerator - n / 2.0, 0.0)
    denominator = math.sqrt((e + b) * (c + h) * (e + c) * (b + h))
    phi = numerator / denominator if denominator > 0 else 0.0
    dl_b, du_b, dl_a, du_a = p_b - l_b, u_b - p_b, p_a - l_a, u_a - p_a
    diff = (b - c) / n
    low = diff - math.sqrt(max(dl_b**2 - 2 * phi * dl_b * du_a + du_a**2, 0.0))
    high = diff + math.sqrt(max(du_b**2 - 2 * phi * du_b * dl_a + dl_a**2, 0.0))
    low, high = _open_end(low, high, alternative, (-1.0, 1.0))
    return diff, low, high


def risk_difference(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    alternative: str = "two-sided",
    paired: bool = False,
) -> Effect:
    """Risk difference mean(b) - mean(a) of 0/1 samples, with a Newcombe interval
    (independent or paired version)."""
    if paired:
        diff, low, high = newcombe_paired_interval(paired_counts(a, b), confidence, alternative)
    else:
        xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
        diff, low, high = newcombe_interval(
            int(sum(xa)), len(xa), int(sum(xb)), len(xb), confidence, alternative
        )
    return Effect("risk difference", diff, low, high)


def odds_ratio(
    a: Sequence[float],
    b: Sequence[float],
    confidence: float = 0.95,
    alternative: str = "two-sided",
) -> Effect:
    """Odds of success under treatment ``b`` over odds under baseline ``a``.

    Conditional maximum-likelihood estimate with its exact conditional interval
    (the values of scipy.stats.contingency.odds_ratio and R's fisher.test). None
    where the table makes it undefined (e.g. no successes at all).
    """
    check_options(alternative, confidence)
    xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
    value, low, high = conditional_odds_ratio(table_of(xa, xb), confidence, alternative)
    return Effect("odds ratio", clean_float(value), clean_float(low), clean_float(high))


def paired_odds_ratio(
    counts: PairedCounts, confidence: float = 0.95, alternative: str = "two-sided"
) -> Effect:
    """Conditional odds ratio of paired 0/1 data, only_b / only_a, with the exact
    interval from the Clopper-Pearson interval of only_b among discordant pairs
    (as R's exact2x2::mcnemar.exact reports)."""
    check_options(alternative, confidence)
    discordant = counts.only_b + counts.only_a
    if discordant == 0:
        return Effect("odds ratio (paired)", None)
    ci = stats.binomtest(counts.only_b, discordant, alternative=alternative).proportion_ci(
        confidence_level=confidence, method="exact"
    )

    def to_odds(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p)

    value = math.inf if counts.only_a == 0 else counts.only_b / counts.only_a
    return Effect("odds ratio (paired)", value, to_odds(ci.low), to_odds(ci.high))


def table_of(xa: list[float], xb: list[float]) -> list[list[int]]:
    """2x2 table with one column per group, treatment first: [[b1, a1], [b0, a0]].

    Columns-as-groups is the layout scipy.stats.boschloo_exact documents; its
    odds ratio is odds(b) / odds(a), so ``greater`` means the treatment is higher.
    """
    k_a, k_b = int(sum(xa)), int(sum(xb))
    return [[k_b, k_a], [len(xb) - k_b, len(xa) - k_a]]
