"""Confidence sequences and anytime-valid p-values for a paired difference watched as it grows.

A fixed-n test checked after every replicate rejects a true null far more often than its
alpha (peeking). A *confidence sequence* is a sequence of intervals that all cover the true
mean at once with probability 1 - alpha (Ville's inequality), so it may be looked at after
every replicate and the run stopped whenever it excludes 0. Each method here is a set of
plain functions over the paired differences ``d_i = treatment_i - baseline_i`` (replicate by
replicate, as the fixed-n paired tests pair them; batch functions work along the last axis, so
a 2-D array holds many runs at once) plus :class:`SequentialDifference`, an incremental
updater with ``update(x)`` / ``interval(alpha)`` / ``p_value()`` that gives the same numbers.
The methods live in :mod:`.bernstein`, :mod:`.betting` and :mod:`.mixtures`; this module holds
the updater, decisions, p-values and e-BH, and re-exports the batch functions.

Methods:

- ``"bounded"``: the predictable plug-in empirical-Bernstein confidence sequence (PrPl-EB) of
  Waudby-Smith & Ramdas (2024), "Estimating means of bounded random variables by betting",
  JRSS-B 86(1), Theorem 2 (:mod:`.bernstein`). Valid in finite samples for any distribution
  on a known [low, high] (the difference of two 0/1 metrics lies in [-1, 1]).
- ``"betting"``: the hedged-capital betting sequence of the same paper (Theorem 3, in
  :mod:`.betting`): also exact in known bounds and tighter, at O(grid) work per replicate.
- ``"asymptotic"``: the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy
  & Ramdas (2024), "Time-uniform central limit theory and asymptotic confidence sequences",
  Annals of Statistics, Theorem 2.2 (:mod:`.mixtures`; Robbins' normal-mixture boundary with
  the sample standard deviation plugged in; rho tuned so the boundary is tightest at
  ``target_n``), with no decision before ``burn_in`` replicates. Valid as n grows for any
  distribution with a finite (2 + delta)-th moment.
- ``"t"``: the anytime-valid t sequence of Lindon, Ham, Tingley & Bojinov (2022), "Anytime-valid
  linear models and regression adjusted causal inference in randomized experiments" (a
  Gaussian-mixture Bayes factor over the t statistic, right-Haar prior on the scale). Exact for
  normal differences at every n (finite from about 11 replicates with ``target_n`` = 100).

The default for unbounded metrics is ``"asymptotic"`` with ``burn_in=30`` and a skewness gate:
no decision while n < 50 * (sample skewness)^2 (``DEFAULT_BURN_IN``, ``DEFAULT_SKEW_GATE``), found
by simulation (``python bench/sequential.py``: 2,000 runs x 500 looks each, figures in
bench/RESULTS.md). Monitored after every replicate, the share of runs whose interval ever missed
the true mean (limit alpha + 3 SE = 0.065): on centred lognormal differences (sigma = 1, 1.5, 2)
the t sequence missed 0.17 / 0.38 / 0.62, the asymptotic sequence without burn-in 0.45 / 0.68 /
0.85, with burn-in 30 alone 0.15 / 0.31 / 0.53 and with burn-in 100 alone 0.07 / 0.17 / 0.33,
all silently invalid; with the gate 0.037 / 0.006 / 0.000, because such runs stay undecided
and the interval says why (``Interval.note``: "skewed ... no decision before N replicates"). On
normal, t(3), 0/1, rare 0/1 (5% vs 1%) and lognormal-pair (symmetric) differences the default
held (0.041, 0.032, 0.041, 0.033, 0.018) and decided as early as without the gate. No interval
can be valid in finite samples for every unbounded distribution (Bahadur & Savage 1956): the
gate is what keeps it from being *silently* wrong; declaring the metric's bounds
(``"bounded"``/``"betting"``) makes it exact. The t sequence suits only differences known to be
close to normal. Both unbounded methods also wait while every difference so far is equal (a
rare 0/1 outcome not yet seen is no zero-width interval).

Anytime-valid p-values are ``min(1, 1 / running max of the e-process)`` for the null "mean
difference = 0". For the mixtures ``p <= alpha`` exactly when the sequence at that alpha has
excluded 0 at some look so far; for the bounded methods whenever it has (their bets are tuned
for the updater's alpha). Across treatments and metrics: stats/family.py (Holm's step-down on
the anytime p-values by default, read through :meth:`SequentialDifference.level_p` and
:meth:`SequentialDifference.interval_at`; or :func:`e_bh` on the current e-values for a false
discovery rate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._data import DataError, differences, is_binary, read_side
from ._sequence_input import DEFAULT_ALPHA, DEFAULT_TARGET_N, _check_alpha
from .bernstein import EB_LAMBDA_CAP, EBState, eb_log_e, eb_sequence
from .betting import BettingState, betting_log_e, betting_sequence
from .mixtures import (
    DEFAULT_BURN_IN,
    DEFAULT_SKEW_GATE,
    _t_phi,
    asymptotic_half_scalar,
    asymptotic_log_e,
    asymptotic_log_e_scalar,
    asymptotic_open_scalar,
    asymptotic_sequence,
    mixture_rho,
    moments_scalar,
    t_half_scalar,
    t_log_e,
    t_log_e_scalar,
    t_sequence,
)

__all__ = [
    "ASSUMPTIONS",
    "DEFAULT_ALPHA",
    "DEFAULT_BURN_IN",
    "DEFAULT_SKEW_GATE",
    "DEFAULT_TARGET_N",
    "METHODS",
    "Interval",
    "SequentialDifference",
    "anytime_p_values",
    "asymptotic_log_e",
    "asymptotic_sequence",
    "betting_log_e",
    "betting_sequence",
    "decide",
    "e_bh",
    "eb_log_e",
    "eb_sequence",
    "mixture_rho",
    "paired_sequence",
    "t_log_e",
    "t_sequence",
]

METHODS = ("bounded", "betting", "asymptotic", "t")
ASSUMPTIONS = {
    "bounded": "differences within the declared bounds; exact at every n",
    "betting": "differences within the declared bounds; exact at every n",
    "asymptotic": "finite variance; valid as n grows, no decision during burn-in or while skewed",
    "t": "normally distributed differences; exact at every n",
}


@dataclass(frozen=True)
class Interval:
    """One look of a confidence sequence for the mean difference (treatment minus baseline)."""

    lower: float
    upper: float
    n: int
    method: str
    alpha: float
    note: str = ""  # why the interval is still infinite (burn-in, skewness), else empty

    @property
    def width(self) -> float:
        return self.upper - self.lower


def decide(interval: Interval | tuple[float, float], higher_is_better: bool = True) -> str:
    """"better", "worse" or "undecided": whether the interval excludes 0, and on which side."""
    lower, upper = (interval.lower, interval.upper) if isinstance(interval, Interval) else interval
    if lower > 0:
        return "better" if higher_is_better else "worse"
    if upper < 0:
        return "worse" if higher_is_better else "better"
    return "undecided"



# --- p-values and the incremental updater ---


def anytime_p_values(log_e: np.ndarray) -> np.ndarray:
    """min(1, 1 / running max of the e-process) after each look, from its logarithm."""
    return np.minimum(1.0, np.exp(-np.maximum.accumulate(np.asarray(log_e, dtype=float), axis=-1)))


def e_bh(e_values: Sequence[float], alpha: float = DEFAULT_ALPHA) -> list[bool]:
    """Which hypotheses the e-BH procedure rejects (Wang & Ramdas 2022, "False discovery rate
    control with e-values", JRSS-B 84(3)): the k* largest e-values, k* = max{k : e_(k) >= K / (k
    alpha)}. Controls the false discovery rate at alpha under any dependence; the e-values are
    the e-processes at the same look (``SequentialDifference.e_value``). For family-wise control
    across treatments, Holm on the anytime p-values (stats/family.py) is the default.
    """
    _check_alpha(alpha)
    e = np.asarray(e_values, dtype=float)
    if e.ndim != 1 or np.isnan(e).any() or (e < 0).any():
        raise DataError(f"e-values must be a list of non-negative numbers, got {list(e_values)!r}")
    k = len(e)
    order = np.argsort(-e, kind="stable")
    passing = [i for i in range(1, k + 1) if e[order[i - 1]] >= k / (i * alpha)]
    rejected = np.zeros(k, dtype=bool)
    if passing:
        rejected[order[: max(passing)]] = True
    return rejected.tolist()


def _one(value: float | np.ndarray) -> float:
    """A bounded state's figure: a float (PrPl-EB) or a one-run array (betting)."""
    return value if isinstance(value, float) else float(value[0])


class SequentialDifference:
    """Incremental confidence sequence for one treatment-minus-baseline difference.

    ``update(x)`` adds one paired difference (or ``update_pair(baseline, treatment)``);
    ``interval(alpha)`` and ``p_value()`` equal the batch functions on the values so far.
    ``method`` is "bounded" or "betting" (both need ``low``/``high``), "asymptotic" (default)
    or "t".
    """

    def __init__(
        self,
        method: str = "asymptotic",
        low: float | None = None,
        high: float | None = None,
        alpha: float = DEFAULT_ALPHA,
        target_n: float = DEFAULT_TARGET_N,
        burn_in: int = DEFAULT_BURN_IN,
        skew_gate: float = DEFAULT_SKEW_GATE,
    ) -> None:
        if method not in METHODS:
            raise DataError(f"unknown sequential method {method!r}; choose from {', '.join(METHODS)}")
        _check_alpha(alpha)
        if method in ("bounded", "betting"):
            if low is None or high is None:
                raise DataError("the bounded method needs the metric's bounds low and high")
            if not high > low or not low <= 0.0 <= high:
                raise DataError(f"bounds need low <= 0 <= high and low < high, got [{low!r}, {high!r}]")
        mixture_rho(target_n, alpha)  # checks target_n
        self.method, self.low, self.high = method, low, high
        self.alpha, self.target_n = alpha, target_n
        self.burn_in, self.skew_gate = burn_in, skew_gate
        self.values: list[float] = []
        # Power sums of x - shift, added in the order np.cumsum adds them: batch == streaming.
        self._shift = 0.0
        self._s1 = self._s2 = self._s3 = 0.0
        self._log_e = self._log_e_max = 0.0
        self._eb: dict[float, EBState | BettingState] = {}

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def assumes(self) -> str:
        """What the method needs of the data, in words a results table can show (with the
        bounds themselves: a run infers [-1, 1] for 0/1 outcomes, nobody declared them)."""
        if self.method in ("bounded", "betting"):
            return f"differences within [{self.low:g}, {self.high:g}]; exact at every n"
        return ASSUMPTIONS[self.method]

    def update_pair(self, baseline: float, treatment: float) -> None:
        self.update(treatment - baseline)

    def update(self, x: float) -> None:
        x = float(x)
        if not math.isfinite(x):
            raise DataError(f"non-finite difference {x!r} at replicate {self.n}")
        if self.method in ("bounded", "betting"):
            assert self.low is not None and self.high is not None
            if not self.low <= x <= self.high:
                raise DataError(f"difference {x!r} at replicate {self.n} is outside the declared "
                                f"bounds [{self.low!r}, {self.high!r}]")
            for state in self._eb.values():
                self._feed(state, (x - self.low) / (self.high - self.low))
            self.values.append(x)
            self._eb_state(self.alpha)
            return
        if not self.values:
            self._shift = x
        self.values.append(x)
        c = x - self._shift
        self._s1 += c
        self._s2 += c * c
        self._s3 += c * c * c
        self._log_e = float(self._log_e_now())
        self._log_e_max = max(self._log_e_max, self._log_e)

    def _moments(self) -> tuple[float, float, float]:
        return moments_scalar(self.n, self._s1, self._s2, self._s3, self._shift)

    def _log_e_now(self) -> float:
        mean, sd, skew = self._moments()
        if self.method == "t":
            return t_log_e_scalar(self.n, mean, sd, 0.0, _t_phi(self.target_n, self.alpha))
        if not asymptotic_open_scalar(self.n, sd, skew, self.burn_in, self.skew_gate):
            return 0.0
        r2 = mixture_rho(self.target_n, self.alpha) ** 2
        return asymptotic_log_e_scalar(self.n, mean, sd, 0.0, r2)

    @staticmethod
    def _feed(state: EBState | BettingState, y: float) -> None:
        state.update(np.array([y]) if isinstance(state, BettingState) else y)

    def _eb_state(self, alpha: float) -> EBState | BettingState:
        """The bounded methods' running state at ``alpha`` (their bets depend on it)."""
        state = self._eb.get(alpha)
        if state is None:
            assert self.low is not None and self.high is not None
            null = (0.0 - self.low) / (self.high - self.low)
            if self.method == "betting":
                state = BettingState(alpha, null)
            else:
                state = EBState(alpha, EB_LAMBDA_CAP, null)
            for x in self.values:  # a new alpha replays the history once, then runs along
                self._feed(state, (x - self.low) / (self.high - self.low))
            self._eb[alpha] = state
        return state

    def interval(self, alpha: float | None = None) -> Interval:
        """The confidence sequence at the current look, at ``alpha`` (default: the updater's)."""
        alpha = self.alpha if alpha is None else alpha
        _check_alpha(alpha)
        if self.method in ("bounded", "betting"):
            assert self.low is not None and self.high is not None
            state = self._eb_state(alpha)
            span = self.high - self.low
            lo, hi = _one(state.lo), _one(state.hi)
            return Interval(self.low + span * lo, self.low + span * hi, self.n, self.method, alpha)
        if not self.values:
            return Interval(-math.inf, math.inf, 0, self.method, alpha, "no replicates yet")
        n = self.n
        mean, sd, skew = self._moments()
        note = ""
        if self.method == "t":
            half = t_half_scalar(n, sd, alpha, _t_phi(self.target_n, alpha))
            if self.n < 2:
                note = "needs 2 replicates"
            elif sd == 0:
                note = "no spread yet: every difference so far is the same"
        elif asymptotic_open_scalar(n, sd, skew, self.burn_in, self.skew_gate):
            half = asymptotic_half_scalar(n, sd, alpha, mixture_rho(self.target_n, alpha))
        else:
            half = math.inf
            if self.n < max(self.burn_in, 2):
                note = f"burn-in: {self.n} of {max(self.burn_in, 2)} replicates"
            elif sd == 0:
                note = "no spread yet: every difference so far is the same"
            else:
                wait = math.ceil(self.skew_gate * skew ** 2)
                note = f"skewed (skewness {skew:.1f}): no decision before {wait} replicates"
        return Interval(mean - half, mean + half, self.n, self.method, alpha, note)

    def p_value(self) -> float:
        """Anytime-valid p-value for "no difference": min(1, 1 / running max of the e-process)."""
        if self.method in ("bounded", "betting"):
            log_max = _one(self._eb_state(self.alpha).log_e_max)
        else:
            log_max = self._log_e_max
        return min(1.0, math.exp(-log_max))

    def e_value(self) -> float:
        """The e-process for "no difference" at the current look (an e-value at any stopping
        time, unlike its running max): what :func:`e_bh` combines across treatments."""
        if self.method in ("bounded", "betting"):
            log_e = _one(self._eb_state(self.alpha).log_e)
        else:
            log_e = self._log_e
        return math.exp(min(log_e, 700.0))

    def level_p(self) -> float:
        """The smallest level at which :meth:`interval_at` has excluded 0 at some look so far
        (its running intersection excludes 0 exactly at levels >= this). For the mixtures the
        anytime p-value itself (duality of the mixture and its e-process); for the bounded
        method 2 exp(-max(|drift| - penalty)) of its bets (Theorem 2's interval solved for
        alpha); the betting method: its p-value."""
        if self.method == "bounded":
            state = self._eb_state(self.alpha)
            return min(1.0, 2.0 * math.exp(-state.excess_max))  # type: ignore[union-attr]
        return self.p_value()

    def interval_at(self, level: float) -> Interval:
        """The interval at ``level`` with the bets and mixture tuned for the updater's own alpha
        (``interval(level)`` retunes them for ``level``). One tuning makes the intervals at
        several levels nested, and for the mixtures the interval at ``level`` excludes 0
        exactly when the e-process passes 1 / level: Holm over the rows reads them so
        (stats/family.py). The bounded interval here is not intersected over looks (the
        caller intersects); the betting method has no such form and retunes."""
        _check_alpha(level)
        if self.method == "betting" or level == self.alpha:
            return self.interval(level)
        if self.method == "bounded":
            assert self.low is not None and self.high is not None
            lo, hi = self._eb_state(self.alpha).bounds_at(level)  # type: ignore[union-attr]
            span = self.high - self.low
            return Interval(self.low + span * lo, self.low + span * hi, self.n, self.method, level)
        here = self.interval(self.alpha)
        if not math.isfinite(here.upper - here.lower):
            return Interval(here.lower, here.upper, here.n, here.method, level, here.note)
        mean, sd, _ = self._moments()
        if self.method == "t":
            half = t_half_scalar(self.n, sd, level, _t_phi(self.target_n, self.alpha))
        else:
            half = asymptotic_half_scalar(self.n, sd, level, mixture_rho(self.target_n, self.alpha))
        return Interval(mean - half, mean + half, self.n, self.method, level, here.note)

    def decision(self, alpha: float | None = None, higher_is_better: bool = True) -> str:
        return decide(self.interval(alpha), higher_is_better)


def paired_sequence(
    baseline: Sequence[float | None],
    treatment: Sequence[float | None],
    bounds: tuple[float, float] | None = None,
    method: str | None = None,
    **options: float,
) -> SequentialDifference:
    """The confidence sequence of ``treatment - baseline`` over replicates paired by index.

    Pairs as the fixed-n paired tests do (a pair with a missing side is dropped; differences
    rounded as :func:`stats._data.differences` does). Method unless given: "bounded" when the
    metric's ``bounds`` (low, high) are declared (the difference then lies in [low - high,
    high - low]) or every value is 0/1, else the unbounded default "asymptotic". ``options``
    go to :class:`SequentialDifference` (alpha, target_n, burn_in, skew_gate).
    """
    a, b = read_side(baseline, "baseline"), read_side(treatment, "treatment")
    if len(a) != len(b):
        raise DataError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    if bounds is not None:
        low, high = (float(v) for v in bounds)
        if not high > low:
            raise DataError(f"metric bounds need low < high, got {bounds!r}")
        for side, values in (("baseline", a), ("treatment", b)):
            for i, v in enumerate(values):
                if v is not None and not low <= v <= high:
                    raise DataError(f"value {v!r} in {side} (replicate {i}) is outside the "
                                    f"metric's declared bounds [{low!r}, {high!r}]")
        span: tuple[float | None, float | None] = (low - high, high - low)
    elif pairs and is_binary(xs) and is_binary(ys):
        span = (-1.0, 1.0)
    else:
        span = (None, None)
    if method is None:
        method = "asymptotic" if span[0] is None else "bounded"
    elif method in ("bounded", "betting") and span[0] is None:
        raise DataError(f"method {method!r} needs the metric's bounds (or 0/1 values)")
    sequence = SequentialDifference(method, *span, **options)
    for d in differences(xs, ys):
        sequence.update(d)
    return sequence
