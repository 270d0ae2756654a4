"""Confidence sequences and anytime-valid p-values for a paired difference watched as it grows.

A fixed-n test checked after every replicate rejects a true null far more often than its
alpha (peeking). A *confidence sequence* is a sequence of intervals that all cover the true
mean at once with probability 1 - alpha (Ville's inequality), so it may be looked at after
every replicate and the run stopped whenever it excludes 0. Each method here is a set of
plain functions over the paired differences ``d_i = treatment_i - baseline_i`` (replicate by
replicate, as the fixed-n paired tests pair them; batch functions work along the last axis, so
a 2-D array holds many runs at once) plus :class:`SequentialDifference`, an incremental
updater with ``update(x)`` / ``interval(alpha)`` / ``p_value()`` that gives the same numbers.

Methods:

- ``"bounded"``: the predictable plug-in empirical-Bernstein confidence sequence (PrPl-EB) of
  Waudby-Smith & Ramdas (2024), "Estimating means of bounded random variables by betting",
  JRSS-B 86(1), Theorem 2. Valid in finite samples for any distribution on a known [low, high]
  (the difference of two 0/1 metrics lies in [-1, 1]).
- ``"asymptotic"``: the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy
  & Ramdas (2024), "Time-uniform central limit theory and asymptotic confidence sequences",
  Annals of Statistics, Theorem 2.2 (Robbins' normal-mixture boundary with the sample standard
  deviation plugged in; rho tuned so the boundary is tightest at ``target_n``), with no decision
  before ``burn_in`` replicates. Valid as n grows for any distribution with a finite
  (2 + delta)-th moment.
- ``"t"``: the anytime-valid t sequence of Lindon, Ham, Tingley & Bojinov (2022), "Anytime-valid
  linear models and regression adjusted causal inference in randomized experiments" (a
  Gaussian-mixture Bayes factor over the t statistic, right-Haar prior on the scale). Exact for
  normal differences at every n, including n = 2.

The default for unbounded metrics is ``"asymptotic"`` with ``burn_in=30`` and a skewness gate:
no decision while n < 50 * (sample skewness)^2 (``DEFAULT_BURN_IN``, ``DEFAULT_SKEW_GATE``), found
by simulation (``python bench/sequential.py``: 2,000 runs x 500 looks each, figures in
bench/RESULTS.md). Monitored after every replicate, the share of runs whose interval ever missed
the true mean (limit alpha + 3 SE = 0.065): on centred lognormal differences (sigma = 1, 1.5, 2)
the t sequence missed 0.17 / 0.38 / 0.62, the asymptotic sequence without burn-in 0.45 / 0.68 /
0.85, with burn-in 30 alone 0.15 / 0.31 / 0.53 and with burn-in 100 alone 0.07 / 0.17 / 0.33,
all silently invalid; with the gate 0.037 / 0.006 / 0.000, because such runs stay undecided
and the interval says why (``Interval.note``: "skewed ... no decision before N replicates"). On
normal, t(3), 0/1 and lognormal-pair (symmetric) differences the default held (0.041, 0.032, 0.041,
0.018) and decided as early as without the gate. No interval can be valid in finite samples for
every unbounded distribution (Bahadur & Savage 1956): the gate is what keeps it from being
*silently* wrong; declaring the metric's bounds (``"bounded"``) makes it exact. The t sequence
is the better choice only for differences known to be close to normal.

Anytime-valid p-values are ``min(1, 1 / running max of the e-process)`` for the null "mean
difference = 0"; ``p <= alpha`` exactly when the sequence at that alpha has excluded 0 at some
look so far (for the bounded method: at the alpha its bets were tuned for).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._data import DataError

METHODS = ("bounded", "asymptotic", "t")
DEFAULT_ALPHA = 0.05
DEFAULT_TARGET_N = 100
DEFAULT_BURN_IN = 30
# No asymptotic decision while n < DEFAULT_SKEW_GATE * (sample skewness)^2: found by simulation.
DEFAULT_SKEW_GATE = 50.0
ASSUMPTIONS = {
    "bounded": "differences within the declared bounds; exact at every n",
    "asymptotic": "finite variance; valid as n grows, no decision during burn-in or while skewed",
    "t": "normally distributed differences; exact at every n",
}
# Largest bet of the PrPl-EB sequence; Waudby-Smith & Ramdas use 1/2 or 3/4.
EB_LAMBDA_CAP = 0.5


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


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be between 0 and 1, got {alpha!r}")


def _as_array(differences: object) -> np.ndarray:
    x = np.asarray(differences, dtype=float)
    if x.ndim == 0:
        raise DataError("differences must be a sequence of numbers, got a single value")
    bad = ~np.isfinite(x)
    if bad.any():
        index = np.argwhere(bad)[0]
        raise DataError(f"non-finite difference {float(x[tuple(index)])!r} at replicate {int(index[-1])}")
    return x


def _check_bounds(x: np.ndarray, low: float, high: float) -> None:
    if not high > low:
        raise DataError(f"bounds need low < high, got low={low!r}, high={high!r}")
    outside = (x < low) | (x > high)
    if outside.any():
        index = np.argwhere(outside)[0]
        raise DataError(
            f"difference {float(x[tuple(index)])!r} at replicate {int(index[-1])} is outside the declared "
            f"bounds [{low!r}, {high!r}]"
        )


def mixture_rho(target_n: float = DEFAULT_TARGET_N, alpha: float = DEFAULT_ALPHA) -> float:
    """Robbins-mixture tuning that makes the boundary tightest at ``target_n`` observations.

    Waudby-Smith et al. (2024), the rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / t* of
    their tuning discussion.
    """
    _check_alpha(alpha)
    if not target_n > 0:
        raise DataError(f"target_n must be positive, got {target_n!r}")
    a = -2.0 * math.log(alpha)
    return math.sqrt((a + math.log(a + 1.0)) / target_n)


def _moments(n, s1, s2, s3, shift):  # noqa: ANN001, ANN202 - arrays or numpy scalars alike
    """Mean, standard deviation (divisor n) and skewness from power sums of ``x - shift``."""
    m = s1 / n
    m2 = np.maximum(s2 / n - m * m, 0.0)
    m3 = s3 / n - 3.0 * m * (s2 / n) + 2.0 * m ** 3
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2 ** 1.5, 0.0)
    return m + shift, np.sqrt(m2), skew


def _running_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n, mean, standard deviation (divisor n) and skewness after each look."""
    n = np.arange(1, x.shape[-1] + 1, dtype=float)
    shift = x[..., :1]  # centre on the first value: the power sums stay accurate
    c = x - shift
    mean, sd, skew = _moments(n, np.cumsum(c, axis=-1), np.cumsum(c * c, axis=-1),
                              np.cumsum(c * c * c, axis=-1), shift)
    return n, mean, sd, skew


# --- asymptotic confidence sequence (Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas 2024) ---


def _asymptotic_open(n, skew, burn_in: int, skew_gate: float):  # noqa: ANN001, ANN202
    """Whether a look may decide: past the burn-in, and n >= skew_gate * skewness^2 (why: the
    normal approximation's error grows with |skewness| / sqrt(n); see the module docstring)."""
    return (n >= max(burn_in, 2)) & (n >= skew_gate * skew * skew)


def _asymptotic_half(n, sd, alpha: float, rho: float):  # noqa: ANN001, ANN202
    r2 = rho * rho
    return sd * np.sqrt(2.0 * (n * r2 + 1.0) / (n * n * r2) * np.log(np.sqrt(n * r2 + 1.0) / alpha))


def _asymptotic_log_e(n, mean, sd, null: float, r2: float):  # noqa: ANN001, ANN202
    with np.errstate(divide="ignore", invalid="ignore"):
        s = n * (mean - null) / sd
    s = np.where(mean == null, 0.0, s)  # 0/0: no evidence either way
    return r2 * s * s / (2.0 * (n * r2 + 1.0)) - 0.5 * np.log(n * r2 + 1.0)


def asymptotic_sequence(
    differences: Sequence[float] | np.ndarray,
    alpha: float = DEFAULT_ALPHA,
    target_n: float = DEFAULT_TARGET_N,
    burn_in: int = DEFAULT_BURN_IN,
    skew_gate: float = DEFAULT_SKEW_GATE,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds after each replicate (infinite while the look may not decide).

    Theorem 2.2: mean_t +/- sd_t * sqrt(2 (t rho^2 + 1) / (t^2 rho^2) * log(sqrt(t rho^2 + 1) / alpha)),
    infinite before ``burn_in`` replicates and while t < ``skew_gate`` * (sample skewness)^2.
    """
    _check_alpha(alpha)
    x = _as_array(differences)
    n, mean, sd, skew = _running_moments(x)
    half = _asymptotic_half(n, sd, alpha, mixture_rho(target_n, alpha))
    half = np.where(_asymptotic_open(n, skew, burn_in, skew_gate), half, np.inf)
    return mean - half, mean + half


def asymptotic_log_e(
    differences: Sequence[float] | np.ndarray,
    null: float = 0.0,
    alpha: float = DEFAULT_ALPHA,
    target_n: float = DEFAULT_TARGET_N,
    burn_in: int = DEFAULT_BURN_IN,
    skew_gate: float = DEFAULT_SKEW_GATE,
) -> np.ndarray:
    """Log of the (asymptotic) normal-mixture e-process for "mean = null" after each replicate.

    E_t = exp(rho^2 S_t^2 / (2 (t rho^2 + 1))) / sqrt(t rho^2 + 1), S_t = t (mean_t - null) / sd_t;
    E_t >= 1/alpha exactly when :func:`asymptotic_sequence` excludes ``null``. 0 while gated.
    """
    x = _as_array(differences)
    n, mean, sd, skew = _running_moments(x)
    log_e = _asymptotic_log_e(n, mean, sd, null, mixture_rho(target_n, alpha) ** 2)
    return np.where(_asymptotic_open(n, skew, burn_in, skew_gate), log_e, 0.0)


# --- anytime-valid t sequence (Lindon, Ham, Tingley & Bojinov 2022) ---


def _t_phi(target_n: float, alpha: float) -> float:
    # The prior precision phi plays the part of 1 / rho^2 in Robbins' mixture: the same tuning.
    return 1.0 / mixture_rho(target_n, alpha) ** 2


def _t_half(n, sd_n, alpha: float, phi: float):  # noqa: ANN001, ANN202
    nu = n - 1.0
    r = phi / (phi + n)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.exp(2.0 / (nu + 1.0) * (-math.log(alpha) - 0.5 * np.log(r)))
        u = (k - 1.0) / (1.0 - k * r)
        s = sd_n * np.sqrt(n / nu)  # sample sd, divisor n - 1
        half = s / np.sqrt(n) * np.sqrt(nu * u)
    return np.where((nu < 1) | (k * r >= 1.0), np.inf, half)


def _t_log_e(n, mean, sd_n, null: float, phi: float):  # noqa: ANN001, ANN202
    nu = n - 1.0
    r = phi / (phi + n)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (mean - null) ** 2 / (sd_n * sd_n)  # t^2 / nu, t the one-sample t statistic
        q = np.where(mean == null, 0.0, q)
        # log((1 + q) / (1 + r q)), tending to -log r as q -> inf
        ratio = np.where(np.isinf(q), -np.log(r), np.log1p(q) - np.log1p(r * q))
        log_e = 0.5 * np.log(r) + (nu + 1.0) / 2.0 * ratio
    return np.where(nu < 1, 0.0, log_e)


def t_sequence(
    differences: Sequence[float] | np.ndarray,
    alpha: float = DEFAULT_ALPHA,
    target_n: float = DEFAULT_TARGET_N,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds after each replicate (infinite at n = 1 or while too wide to bound).

    Inverts BF_n = sqrt(r) ((1 + t^2/nu) / (1 + r t^2/nu))^((nu+1)/2) = 1/alpha for t^2, with
    r = phi / (phi + n), nu = n - 1 and t the one-sample t statistic of mean - delta.
    """
    _check_alpha(alpha)
    x = _as_array(differences)
    n, mean, sd, _ = _running_moments(x)
    half = _t_half(n, sd, alpha, _t_phi(target_n, alpha))
    return mean - half, mean + half


def t_log_e(
    differences: Sequence[float] | np.ndarray,
    null: float = 0.0,
    alpha: float = DEFAULT_ALPHA,
    target_n: float = DEFAULT_TARGET_N,
) -> np.ndarray:
    """Log of Lindon et al.'s Bayes factor (an e-process for normal data) for "mean = null"."""
    x = _as_array(differences)
    n, mean, sd, _ = _running_moments(x)
    return _t_log_e(n, mean, sd, null, _t_phi(target_n, alpha))


# --- predictable plug-in empirical-Bernstein sequence (Waudby-Smith & Ramdas 2024) ---


def _eb_terms(y: np.ndarray, alpha: float, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Bets lambda_t and penalties v_t psi_E(lambda_t) for values ``y`` in [0, 1] (Theorem 2).

    mu_t = (1/2 + sum y_i) / (t + 1), sigma2_t = (1/4 + sum (y_i - mu_i)^2) / (t + 1),
    lambda_t = min(sqrt(2 log(2/alpha) / (sigma2_{t-1} t log(1 + t))), cap),
    v_t = 4 (y_t - mu_{t-1})^2, psi_E(l) = (-log(1 - l) - l) / 4.
    """
    t = np.arange(1, y.shape[-1] + 1, dtype=float)
    mu = (0.5 + np.cumsum(y, axis=-1)) / (t + 1.0)
    sigma2 = (0.25 + np.cumsum((y - mu) ** 2, axis=-1)) / (t + 1.0)
    mu_prev = np.concatenate([np.full(y.shape[:-1] + (1,), 0.5), mu[..., :-1]], axis=-1)
    sigma2_prev = np.concatenate([np.full(y.shape[:-1] + (1,), 0.25), sigma2[..., :-1]], axis=-1)
    lam = np.minimum(np.sqrt(2.0 * math.log(2.0 / alpha) / (sigma2_prev * t * np.log1p(t))), cap)
    psi = (-np.log1p(-lam) - lam) / 4.0
    return lam, 4.0 * (y - mu_prev) ** 2 * psi


def eb_sequence(
    differences: Sequence[float] | np.ndarray,
    low: float = -1.0,
    high: float = 1.0,
    alpha: float = DEFAULT_ALPHA,
    intersect: bool = True,
    cap: float = EB_LAMBDA_CAP,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds after each replicate for differences known to lie in [low, high].

    C_t = sum(l_i y_i) / sum(l_i) +/- (log(2/alpha) + sum(v_i psi_E(l_i))) / sum(l_i) on
    y = (d - low) / (high - low), mapped back; with ``intersect`` the running intersection
    (also a valid confidence sequence, and never wider from one look to the next).
    """
    _check_alpha(alpha)
    x = _as_array(differences)
    _check_bounds(x, low, high)
    y = (x - low) / (high - low)
    lam, pen = _eb_terms(y, alpha, cap)
    sl = np.cumsum(lam, axis=-1)
    centre = np.cumsum(lam * y, axis=-1) / sl
    half = (math.log(2.0 / alpha) + np.cumsum(pen, axis=-1)) / sl
    lo, hi = np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)
    if intersect:
        lo, hi = np.maximum.accumulate(lo, axis=-1), np.minimum.accumulate(hi, axis=-1)
    return low + (high - low) * lo, low + (high - low) * hi


def eb_log_e(
    differences: Sequence[float] | np.ndarray,
    low: float = -1.0,
    high: float = 1.0,
    null: float = 0.0,
    alpha: float = DEFAULT_ALPHA,
    cap: float = EB_LAMBDA_CAP,
) -> np.ndarray:
    """Log of the two-sided EB e-process (M+ + M-) / 2 for "mean = null", bets tuned at ``alpha``.

    M+/- = exp(+/- sum l_i (y_i - m) - sum v_i psi_E(l_i)): the supermartingales Theorem 2
    inverts, so E_t >= 1/alpha whenever :func:`eb_sequence` (not intersected) excludes ``null``.
    """
    x = _as_array(differences)
    _check_bounds(x, low, high)
    if not low <= null <= high:
        raise DataError(f"null {null!r} is outside the declared bounds [{low!r}, {high!r}]")
    y = (x - low) / (high - low)
    m = (null - low) / (high - low)
    lam, pen = _eb_terms(y, alpha, cap)
    drift = np.cumsum(lam * (y - m), axis=-1)
    cost = np.cumsum(pen, axis=-1)
    return np.logaddexp(drift - cost, -drift - cost) - math.log(2.0)


# --- p-values and the incremental updater ---


def anytime_p_values(log_e: np.ndarray) -> np.ndarray:
    """min(1, 1 / running max of the e-process) after each look, from its logarithm."""
    return np.minimum(1.0, np.exp(-np.maximum.accumulate(np.asarray(log_e, dtype=float), axis=-1)))


class _EBState:
    """Running sums of the PrPl-EB sequence at one alpha (bets depend on alpha)."""

    def __init__(self, alpha: float, cap: float, null: float) -> None:
        self.alpha, self.cap, self.null = alpha, cap, null
        self.t = 0
        self.sum_y = 0.0
        self.sum_sq = 0.0
        self.mu_prev, self.sigma2_prev = 0.5, 0.25
        self.sum_l = self.sum_ly = self.sum_pen = 0.0
        self.lo, self.hi = 0.0, 1.0
        self.log_e_max = 0.0

    def update(self, y: float) -> None:
        self.t += 1
        t = self.t
        lam = min(math.sqrt(2.0 * math.log(2.0 / self.alpha) / (self.sigma2_prev * t * math.log1p(t))),
                  self.cap)
        pen = 4.0 * (y - self.mu_prev) ** 2 * (-math.log1p(-lam) - lam) / 4.0
        self.sum_l += lam
        self.sum_ly += lam * y
        self.sum_pen += pen
        self.sum_y += y
        mu = (0.5 + self.sum_y) / (t + 1.0)
        self.sum_sq += (y - mu) ** 2
        self.mu_prev, self.sigma2_prev = mu, (0.25 + self.sum_sq) / (t + 1.0)
        centre = self.sum_ly / self.sum_l
        half = (math.log(2.0 / self.alpha) + self.sum_pen) / self.sum_l
        self.lo = max(self.lo, centre - half, 0.0)
        self.hi = min(self.hi, centre + half, 1.0)
        drift = self.sum_ly - self.null * self.sum_l
        log_e = float(np.logaddexp(drift - self.sum_pen, -drift - self.sum_pen)) - math.log(2.0)
        self.log_e_max = max(self.log_e_max, log_e)


class SequentialDifference:
    """Incremental confidence sequence for one treatment-minus-baseline difference.

    ``update(x)`` adds one paired difference (or ``update_pair(baseline, treatment)``);
    ``interval(alpha)`` and ``p_value()`` equal the batch functions on the values so far.
    ``method`` is "bounded" (needs ``low``/``high``), "asymptotic" (default) or "t".
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
        if method == "bounded":
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
        self._sums = np.zeros(3)
        self._log_e_max = 0.0
        self._eb: dict[float, _EBState] = {}

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def assumes(self) -> str:
        """What the method needs of the data, in words a results table can show."""
        return ASSUMPTIONS[self.method]

    def update_pair(self, baseline: float, treatment: float) -> None:
        self.update(treatment - baseline)

    def update(self, x: float) -> None:
        x = float(x)
        if not math.isfinite(x):
            raise DataError(f"non-finite difference {x!r} at replicate {self.n}")
        if self.method == "bounded":
            assert self.low is not None and self.high is not None
            if not self.low <= x <= self.high:
                raise DataError(f"difference {x!r} at replicate {self.n} is outside the declared "
                                f"bounds [{self.low!r}, {self.high!r}]")
            for state in self._eb.values():
                state.update((x - self.low) / (self.high - self.low))
            self.values.append(x)
            self._eb_state(self.alpha)
            return
        if not self.values:
            self._shift = x
        self.values.append(x)
        c = np.float64(x - self._shift)
        self._sums += (c, c * c, c * c * c)
        log_e = float(self._log_e_now())
        self._log_e_max = max(self._log_e_max, log_e)

    def _moments(self):  # noqa: ANN202
        n = np.float64(self.n)
        mean, sd, skew = _moments(n, self._sums[0], self._sums[1], self._sums[2],
                                  np.float64(self._shift))
        return n, mean, sd, skew

    def _log_e_now(self) -> float:
        n, mean, sd, skew = self._moments()
        if self.method == "t":
            return float(_t_log_e(n, mean, sd, 0.0, _t_phi(self.target_n, self.alpha)))
        if not _asymptotic_open(n, skew, self.burn_in, self.skew_gate):
            return 0.0
        return float(_asymptotic_log_e(n, mean, sd, 0.0, mixture_rho(self.target_n, self.alpha) ** 2))

    def _eb_state(self, alpha: float) -> _EBState:
        state = self._eb.get(alpha)
        if state is None:
            assert self.low is not None and self.high is not None
            null = (0.0 - self.low) / (self.high - self.low)
            state = _EBState(alpha, EB_LAMBDA_CAP, null)
            for x in self.values:  # a new alpha replays the history once, then runs along
                state.update((x - self.low) / (self.high - self.low))
            self._eb[alpha] = state
        return state

    def interval(self, alpha: float | None = None) -> Interval:
        """The confidence sequence at the current look, at ``alpha`` (default: the updater's)."""
        alpha = self.alpha if alpha is None else alpha
        _check_alpha(alpha)
        if self.method == "bounded":
            assert self.low is not None and self.high is not None
            state = self._eb_state(alpha)
            span = self.high - self.low
            return Interval(self.low + span * state.lo, self.low + span * state.hi, self.n,
                            self.method, alpha)
        if not self.values:
            return Interval(-math.inf, math.inf, 0, self.method, alpha, "no replicates yet")
        n, mean, sd, skew = self._moments()
        note = ""
        if self.method == "t":
            half = float(_t_half(n, sd, alpha, _t_phi(self.target_n, alpha)))
            if self.n < 2:
                note = "needs 2 replicates"
        elif _asymptotic_open(n, skew, self.burn_in, self.skew_gate):
            half = float(_asymptotic_half(n, sd, alpha, mixture_rho(self.target_n, alpha)))
        else:
            half = math.inf
            if self.n < max(self.burn_in, 2):
                note = f"burn-in: {self.n} of {max(self.burn_in, 2)} replicates"
            else:
                wait = math.ceil(self.skew_gate * float(skew) ** 2)
                note = f"skewed (skewness {float(skew):.1f}): no decision before {wait} replicates"
        return Interval(float(mean) - half, float(mean) + half, self.n, self.method, alpha, note)

    def p_value(self) -> float:
        """Anytime-valid p-value for "no difference": min(1, 1 / running max of the e-process)."""
        log_max = self._eb_state(self.alpha).log_e_max if self.method == "bounded" else self._log_e_max
        return min(1.0, math.exp(-log_max))

    def decision(self, alpha: float | None = None, higher_is_better: bool = True) -> str:
        return decide(self.interval(alpha), higher_is_better)
