"""The predictable plug-in empirical-Bernstein confidence sequence (PrPl-EB) for a mean in known
bounds: Waudby-Smith & Ramdas (2024), "Estimating means of bounded random variables by betting",
JRSS-B 86(1), Theorem 2."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._data import DataError
from ._sequence_input import DEFAULT_ALPHA, _as_array, _check_alpha, _check_bounds

# Largest bet of the PrPl-EB sequence; Waudby-Smith & Ramdas use 1/2 or 3/4.
EB_LAMBDA_CAP = 0.5


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


class EBState:
    """Running sums of the PrPl-EB sequence at one alpha (bets depend on alpha)."""

    def __init__(self, alpha: float, cap: float, null: float) -> None:
        self.alpha, self.cap, self.null = alpha, cap, null
        self.t = 0
        self.sum_y = 0.0
        self.sum_sq = 0.0
        self.mu_prev, self.sigma2_prev = 0.5, 0.25
        self.sum_l = self.sum_ly = self.sum_pen = 0.0
        self.lo, self.hi = 0.0, 1.0
        self.log_e = self.log_e_max = 0.0
        self.excess_max = -math.inf  # running max of |drift| - penalty: see bounds_at

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
        # log((exp(drift) + exp(-drift)) / 2) - penalty, as np.logaddexp would, without numpy
        spread = abs(drift)
        self.log_e = spread + math.log1p(math.exp(-2.0 * spread)) - self.sum_pen - math.log(2.0)
        self.log_e_max = max(self.log_e_max, self.log_e)
        # The interval at level a (these bets) excludes the null exactly when |drift| - penalty
        # > log(2 / a): its running max says at which levels it ever has (stats/family.py).
        self.excess_max = max(self.excess_max, spread - self.sum_pen)

    def bounds_at(self, alpha: float) -> tuple[float, float]:
        """The current interval (not intersected) at another ``alpha`` with these same bets:
        intervals at several levels from one set of bets are nested (stats/family.py)."""
        if self.t == 0:
            return 0.0, 1.0
        centre = self.sum_ly / self.sum_l
        half = (math.log(2.0 / alpha) + self.sum_pen) / self.sum_l
        return max(centre - half, 0.0), min(centre + half, 1.0)
