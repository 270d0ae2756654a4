"""Normal-mixture confidence sequences for unbounded metrics: the asymptotic sequence of
Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas (2024) and the anytime-valid t sequence of Lindon,
Ham, Tingley & Bojinov (2022). Why the defaults are what they are: :mod:`.sequential`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._data import DataError
from ._sequence_input import DEFAULT_ALPHA, DEFAULT_TARGET_N, _as_array, _check_alpha

DEFAULT_BURN_IN = 30
# No asymptotic decision while n < DEFAULT_SKEW_GATE * (sample skewness)^2: found by simulation.
DEFAULT_SKEW_GATE = 50.0


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


def _asymptotic_open(n, sd, skew, burn_in: int, skew_gate: float):  # noqa: ANN001, ANN202
    """Whether a look may decide: past the burn-in, some spread seen (a rare 0/1 event not yet
    seen would otherwise give a zero-width interval), and n >= skew_gate * skewness^2 (why: the
    normal approximation's error grows with |skewness| / sqrt(n); see :mod:`.sequential`)."""
    return (n >= max(burn_in, 2)) & (sd > 0) & (n >= skew_gate * skew * skew)


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
    half = np.where(_asymptotic_open(n, sd, skew, burn_in, skew_gate), half, np.inf)
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
    return np.where(_asymptotic_open(n, sd, skew, burn_in, skew_gate), log_e, 0.0)


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
    # No spread yet (every difference equal): under normality that never happens; with 0/1 or
    # rounded metrics it means the rare outcome is unseen, not a zero-width interval.
    return np.where((nu < 1) | (k * r >= 1.0) | (sd_n == 0), np.inf, half)


def _t_log_e(n, mean, sd_n, null: float, phi: float):  # noqa: ANN001, ANN202
    nu = n - 1.0
    r = phi / (phi + n)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (mean - null) ** 2 / (sd_n * sd_n)  # t^2 / nu, t the one-sample t statistic
        q = np.where(mean == null, 0.0, q)
        # log((1 + q) / (1 + r q)), tending to -log r as q -> inf
        ratio = np.where(np.isinf(q), -np.log(r), np.log1p(q) - np.log1p(r * q))
        log_e = 0.5 * np.log(r) + (nu + 1.0) / 2.0 * ratio
    return np.where((nu < 1) | (sd_n == 0), 0.0, log_e)


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


# --- the same formulas on Python floats, for the incremental updater (numpy's per-call cost on
# scalars was 5-10x the arithmetic); tests/test_sequential.py checks both give the same numbers ---


def moments_scalar(n: int, s1: float, s2: float, s3: float, shift: float) -> tuple[float, float, float]:
    """:func:`_moments` for one look: mean, standard deviation (divisor n) and skewness."""
    m = s1 / n
    m2 = max(s2 / n - m * m, 0.0)
    m3 = s3 / n - 3.0 * m * (s2 / n) + 2.0 * m ** 3
    return m + shift, math.sqrt(m2), (m3 / m2 ** 1.5 if m2 > 0 else 0.0)


def asymptotic_open_scalar(n: int, sd: float, skew: float, burn_in: int, skew_gate: float) -> bool:
    return n >= max(burn_in, 2) and sd > 0 and n >= skew_gate * skew * skew


def asymptotic_half_scalar(n: int, sd: float, alpha: float, rho: float) -> float:
    r2 = rho * rho
    return sd * math.sqrt(2.0 * (n * r2 + 1.0) / (n * n * r2) * math.log(math.sqrt(n * r2 + 1.0) / alpha))


def asymptotic_log_e_scalar(n: int, mean: float, sd: float, null: float, r2: float) -> float:
    if mean == null:
        s2 = 0.0
    elif sd == 0:
        return math.inf
    else:
        s2 = (n * (mean - null) / sd) ** 2
    return r2 * s2 / (2.0 * (n * r2 + 1.0)) - 0.5 * math.log(n * r2 + 1.0)


def t_half_scalar(n: int, sd_n: float, alpha: float, phi: float) -> float:
    nu = n - 1.0
    if nu < 1 or sd_n == 0:
        return math.inf
    r = phi / (phi + n)
    k = math.exp(2.0 / (nu + 1.0) * (-math.log(alpha) - 0.5 * math.log(r)))
    if k * r >= 1.0:
        return math.inf
    s = sd_n * math.sqrt(n / nu)
    return s / math.sqrt(n) * math.sqrt(nu * ((k - 1.0) / (1.0 - k * r)))


def t_log_e_scalar(n: int, mean: float, sd_n: float, null: float, phi: float) -> float:
    nu = n - 1.0
    if nu < 1 or sd_n == 0:
        return 0.0
    r = phi / (phi + n)
    q = 0.0 if mean == null else (mean - null) ** 2 / (sd_n * sd_n)
    return 0.5 * math.log(r) + (nu + 1.0) / 2.0 * (math.log1p(q) - math.log1p(r * q))
