"""Seeded bootstrap confidence intervals for the difference between two samples."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ._data import as_floats, require_n, require_same_length
from .results import TestResult, check_options, clean_float


def _mean_difference(x, y, axis=-1):
    return np.mean(y, axis=axis) - np.mean(x, axis=axis)


def _median_difference(x, y, axis=-1):
    return np.median(y, axis=axis) - np.median(x, axis=axis)


# scipy >= 1.15 takes ``rng``; older releases (the project allows 1.11) take ``random_state``.
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"

STATISTICS = {"mean_difference": _mean_difference, "median_difference": _median_difference}


def bootstrap_ci(
    a: Sequence[float],
    b: Sequence[float],
    paired: bool = False,
    statistic: str = "mean_difference",
    n_resamples: int = 9999,
    seed: int = 0,
    confidence: float = 0.95,
    method: str = "BCa",
    alternative: str = "two-sided",
) -> TestResult:
    """Bootstrap CI of ``statistic(b) - statistic(a)`` (treatment minus baseline).

    Replicates are resampled with scipy.stats.bootstrap: each side independently,
    or whole pairs (same indices on both sides) when ``paired``. With ``paired``
    the statistic is computed on the resampled pairs, so "mean_difference" is
    the mean paired difference. The same ``seed`` always gives the same interval.
    If BCa cannot be computed (e.g. a degenerate bootstrap distribution) the
    percentile interval is used instead and ``method`` says so. No p-value.
    """
    check_options(alternative, confidence)
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_n(xa, 2, "baseline")
    require_n(xb, 2, "treatment")
    if paired:
        require_same_length(xa, xb)
    func = STATISTICS[statistic]
    data = (np.asarray(xa), np.asarray(xb))
    used = method

    def run(kind: str):
        with warnings.catch_warnings():
            # A degenerate distribution is handled below by falling back, so the
            # warning scipy raises about it would only be noise for the user.
            warnings.simplefilter("ignore")
            return stats.bootstrap(
                data,
                func,
                paired=paired,
                vectorized=True,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method=kind,
                alternative=alternative,
                **{_RNG_KEYWORD: np.random.default_rng(seed)},
            )

    res = run(method)
    low, high = res.confidence_interval.low, res.confidence_interval.high
    if method != "percentile" and (math.isnan(low) or math.isnan(high)):
        used = "percentile (BCa undefined for this data)"
        res = run("percentile")
        low, high = res.confidence_interval.low, res.confidence_interval.high
    observed = float(func(*data))
    return TestResult(
        test=f"bootstrap ({used.split(' ')[0]})",
        statistic=observed,
        df=None,
        p_value=None,
        ci_low=clean_float(low),
        ci_high=clean_float(high),
        confidence=confidence,
        effect_name=None,
        effect=None,
        alternative=alternative,
        estimate_name=statistic.replace("_", " ") + (" (paired)" if paired else ""),
        estimate=observed,
        n_a=len(xa),
        n_b=len(xb),
        method=f"{used}; {n_resamples} resamples; seed {seed}",
        ci_method=f"bootstrap {used.split(' ')[0]}",
    )
