"""t-tests (Welch's and paired) with the confidence interval of the mean difference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from ._data import (
    DataError,
    as_floats,
    differences,
    is_constant,
    mean,
    require_n,
    require_same_length,
)
from .effects import hedges_g
from .results import TestResult, check_options, clean_float


def welch_t(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Welch's unequal-variance t-test of treatment ``b`` against baseline ``a``.

    The statistic, CI and effect all describe ``b - a``: ``alternative="greater"``
    asks whether the treatment mean exceeds the baseline mean. Effect: Hedges' g.
    """
    check_options(alternative, confidence)
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_n(xa, 2, "baseline")
    require_n(xb, 2, "treatment")
    if is_constant(xa) and is_constant(xb):
        raise DataError("no variance on either side: the t statistic is undefined")
    # Shift both sides by one common value: t, df, p and the interval of the difference do
    # not change, and values near 1e15 then differ from it exactly (Sterbenz), so scipy's
    # variances no longer lose the noise to cancellation ("precision loss" warnings).
    va, vb = np.asarray(xa, dtype=float), np.asarray(xb, dtype=float)
    shift = float(np.median(va))
    res = stats.ttest_ind(vb - shift, va - shift, equal_var=False, alternative=alternative)
    ci = res.confidence_interval(confidence_level=confidence)
    return TestResult(
        test="Welch's t-test",
        statistic=clean_float(res.statistic),
        df=clean_float(res.df),
        p_value=clean_float(res.pvalue),
        ci_low=clean_float(ci.low),
        ci_high=clean_float(ci.high),
        confidence=confidence,
        effect_name="Hedges' g",
        effect=hedges_g(xa, xb),
        alternative=alternative,
        estimate_name="mean difference",
        estimate=mean(xb) - mean(xa),  # type: ignore[operator]
        n_a=len(xa),
        n_b=len(xb),
        ci_method="Welch t interval",
    )


def paired_t(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Paired t-test on the differences ``b[i] - a[i]`` (treatment minus baseline).

    The CI is that of the mean paired difference. The effect is Hedges' g with
    the pooled SD of the two samples (not of the differences), so it stays
    comparable with unpaired runs; see ``hedges_g(paired=True)`` for g_z.
    """
    check_options(alternative, confidence)
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_same_length(xa, xb)
    require_n(xa, 2, "pairs")
    d = differences(xa, xb)
    if is_constant(d):
        raise DataError("the paired differences have no variance: the t statistic is undefined")
    res = stats.ttest_rel(xb, xa, alternative=alternative)
    ci = res.confidence_interval(confidence_level=confidence)
    return TestResult(
        test="paired t-test",
        statistic=clean_float(res.statistic),
        df=clean_float(res.df),
        p_value=clean_float(res.pvalue),
        ci_low=clean_float(ci.low),
        ci_high=clean_float(ci.high),
        confidence=confidence,
        effect_name="Hedges' g",
        effect=hedges_g(xa, xb),
        alternative=alternative,
        estimate_name="mean paired difference",
        estimate=mean(d),
        n_a=len(xa),
        n_b=len(xb),
        ci_method="paired t interval",
    )
