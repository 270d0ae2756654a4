"""Holm, Bonferroni and e-BH across a family of anytime-valid rows (treatments x metrics).

Each row of a run watched as it grows has a confidence sequence (stats/sequential.py). Over
m rows the family needs a correction; three are offered:

- ``"holm"`` (default, family-wise error): Holm's step-down on *anytime-valid* p-values. Why
  it holds at any look, even one chosen by looking: let p_i(t) be row i's anytime p-value,
  super-uniform uniformly in time, P(exists t: p_i(t) <= a) <= a (Ville's inequality for the
  e-process behind it). Holm rejects a true null at look t only if the smallest p-value among
  the m0 true nulls is <= alpha / m0 at t (that row cannot sit later than step m - m0 + 1), so
  P(any true null ever rejected) <= sum over the m0 true nulls of P(exists t: p_i(t) <=
  alpha / m0) <= alpha. The bound is over *every* t at once, so it holds at any stopping time.
  The p-values here are non-increasing in t (running max of the e-process, running
  intersection of the intervals), so a row once decided stays decided.
- ``"bonferroni"``: every row at alpha / m (what Holm's first step does; kept to compare).
- ``"e-bh"`` (false discovery rate): e-BH (Wang & Ramdas 2022) on the e-processes at the
  current look. An e-process stopped at any stopping time is an e-value (optional stopping),
  and e-BH controls FDR for arbitrarily dependent e-values, so the FDR is at most alpha at
  whichever look the run stops. Decisions may come and go between looks.

The anytime p-values Holm uses are read on the grid of its step levels alpha / k (k = 1..m):
a row's grid p-value (:func:`on_grid` of ``SequentialDifference.level_p``) is the smallest
alpha / k at which its confidence sequence at that level has excluded 0 at some look (its
running intersection excludes 0). The sequences at the m levels come from one set of bets
or one mixture (``SequentialDifference.interval_at``), so they are nested: excluded at a level implies excluded at every larger one, hence P(grid p <= alpha / k)
= P(the level-alpha/k sequence ever excludes the true 0) <= alpha / k, which is all the argument
above needs. For the mixtures (unbounded metrics) the level-a sequence excludes 0 exactly when
the e-process passes 1 / a, so the grid p is the anytime p-value rounded up to the grid: Holm on
the anytime p-values, as :func:`grid_p_batch` computes it. The interval shown at the step
level where a row was decided excludes 0 by construction.

These guarantees are those of the rows' sequences: exact for bounded metrics, and for
unbounded ones as valid as the asymptotic sequence is (as n grows, with its burn-in and skew
gate; stats/sequential.py). bench/sequential.py ("family") checks them by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._data import DataError

CORRECTIONS = ("holm", "e-bh", "bonferroni")
DEFAULT_CORRECTION = "holm"
LABELS = {
    "holm": "Holm step-down across {m} row(s), family-wise alpha {alpha}",
    "bonferroni": "Bonferroni across {m} row(s), alpha {alpha}/{m} each",
    "e-bh": "e-BH across {m} row(s), false discovery rate {alpha}",
}


def check_correction(value: object) -> str:
    """The correction's name, or a one-line error naming the bad value and the choices."""
    text = str(value).strip().lower() if value is not None else DEFAULT_CORRECTION
    text = {"ebh": "e-bh", "e_bh": "e-bh"}.get(text, text)
    if text not in CORRECTIONS:
        raise DataError(f"correction {value!r}: choose from {', '.join(CORRECTIONS)}")
    return text


def describe(correction: str, m: int, alpha: float) -> str:
    """What the screen and JSON say about the family: "Holm step-down across 3 row(s), ..."."""
    return LABELS[correction].format(m=m, alpha=f"{alpha:g}")


@dataclass(frozen=True)
class FamilyDecision:
    """Which rows are decided, and the level of the interval to show beside each."""

    rejected: list[bool]
    levels: list[float]


def holm_levels(m: int, alpha: float) -> list[float]:
    """The step-down levels alpha / m, alpha / (m - 1), ..., alpha (the grid of :func:`on_grid`)."""
    return [alpha / (m - j) for j in range(m)]


def holm(p_values: Sequence[float], alpha: float) -> FamilyDecision:
    """Holm's step-down: sort ascending, reject while p_(j) <= alpha / (m - j + 1).

    A rejected row's level is the step level at which it was rejected; the others' is the
    level of the next step (the one they would need to pass), so each shown interval matches
    the decision beside it."""
    p = [float(v) for v in p_values]
    if any(math.isnan(v) for v in p):
        raise DataError(f"p-values must be numbers, got {p!r}")
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    rejected = [False] * m
    levels = [alpha / m if m else alpha] * m
    step = 0
    for step, i in enumerate(order):
        level = alpha / (m - step)
        if p[i] > level:
            break
        rejected[i], levels[i] = True, level
    else:
        step = m
    following = alpha / (m - step) if step < m else alpha
    for i in range(m):
        if not rejected[i]:
            levels[i] = following
    return FamilyDecision(rejected, levels)


def bonferroni(p_values: Sequence[float], alpha: float) -> FamilyDecision:
    m = max(len(p_values), 1)
    return FamilyDecision([float(v) <= alpha / m for v in p_values], [alpha / m] * len(p_values))


def ebh(e_values: Sequence[float], alpha: float) -> FamilyDecision:
    """e-BH on the current e-values; a rejected row's level is alpha R / m (R rows rejected):
    its e-value passed m / (alpha R). Any other row's e-value is below m / (alpha (R + 1)) (else
    e-BH would have rejected R + 1), so it is shown at alpha (R + 1) / m."""
    from .sequential import e_bh

    m = len(e_values)
    rejected = e_bh(e_values, alpha) if m else []
    r = sum(rejected)
    levels = [alpha * (r if hit else min(r + 1, m)) / m for hit in rejected]
    return FamilyDecision(rejected, levels)


def on_grid(p_value: float, levels: Sequence[float]) -> float:
    """The smallest level at or above ``p_value`` (1.0 above them all): the grid p-value of a
    row whose running intersections exclude 0 exactly at levels >= ``p_value``."""
    above = [a for a in levels if p_value <= a]
    return min(above) if above else 1.0


class Hulls:
    """Running intersections of one row's confidence sequence at several levels: still a
    confidence sequence at each level (all cover at once exactly when every one does), and
    never wider from one look to the next, so a row once decided stays decided."""

    def __init__(self) -> None:
        self.bounds: dict[float, tuple[float, float]] = {}

    def update(self, sequence: object, levels: Sequence[float]) -> None:
        """Intersect with ``sequence.interval(level)`` at each level (a level new to this row
        starts from the current look: fewer looks intersected, never an invalid interval)."""
        for level in levels:
            now = sequence.interval_at(level)  # type: ignore[attr-defined]
            lo, hi = self.bounds.get(level, (-math.inf, math.inf))
            self.bounds[level] = (max(lo, now.lower), min(hi, now.upper))

    def at(self, level: float) -> tuple[float, float]:
        return self.bounds.get(level, (-math.inf, math.inf))



# --- batch: many simulated runs at once (bench/sequential.py; equal to the streaming rows) ---


def grid_p_batch(p_values: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """:func:`on_grid` of anytime p-values (``stats.sequential.anytime_p_values``): the
    smallest level at or above each p (1.0 above them all)."""
    p = np.asarray(p_values, dtype=float)
    grid = np.full(p.shape, 1.0)
    for level in sorted(levels, reverse=True):
        grid = np.where(p <= level, level, grid)
    return grid


def holm_batch(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Holm's rejections with the family's rows on axis 0 (any other axes: runs, looks)."""
    p = np.asarray(p_values, dtype=float)
    m = p.shape[0]
    order = np.argsort(p, axis=0, kind="stable")
    ranked = np.take_along_axis(p, order, axis=0)
    steps = np.asarray(holm_levels(m, alpha)).reshape((m,) + (1,) * (p.ndim - 1))
    passed = np.cumprod(ranked <= steps, axis=0).sum(axis=0)  # how many steps passed in a row
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(m).reshape((m,) + (1,) * (p.ndim - 1)), axis=0)
    return ranks < passed


def ebh_batch(e_values: np.ndarray, alpha: float) -> np.ndarray:
    """e-BH's rejections (:func:`stats.sequential.e_bh`) with the rows on axis 0."""
    e = np.asarray(e_values, dtype=float)
    m = e.shape[0]
    order = np.argsort(-e, axis=0, kind="stable")
    ranked = np.take_along_axis(e, order, axis=0)
    k = np.arange(1, m + 1).reshape((m,) + (1,) * (e.ndim - 1))
    passing = np.where(ranked >= m / (k * alpha), k, 0).max(axis=0)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, k - 1, axis=0)
    return ranks < passing
