"""Exact tests for 0/1 outcomes: Fisher's, Boschloo's and McNemar's (exact binomial)."""

from __future__ import annotations

from collections.abc import Sequence

from scipy import stats

from ._data import require_same_length
from .proportions import (
    binary_sample,
    odds_ratio,
    paired_counts,
    paired_odds_ratio,
    risk_difference,
    table_of,
)
from .results import TestResult, check_options, clean_float


def _unpaired_result(name, p_value, statistic, a, b, alternative, confidence, method):
    # Shared by Fisher and Boschloo: same effects, only the p-value differs.
    rd = risk_difference(a, b, confidence, alternative)
    return TestResult(
        test=name,
        statistic=clean_float(statistic),
        df=None,
        p_value=clean_float(p_value),
        ci_low=rd.ci_low,
        ci_high=rd.ci_high,
        confidence=confidence,
        effect_name=rd.name,
        effect=rd.value,
        alternative=alternative,
        estimate_name="difference of proportions",
        estimate=rd.value,
        n_a=len(a),
        n_b=len(b),
        method=method,
        ci_method="Newcombe hybrid score",
        other_effects=(odds_ratio(a, b, confidence, alternative),),
    )


def fisher_exact(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Fisher's exact test on two independent 0/1 samples (baseline ``a``, treatment ``b``).

    ``alternative="greater"`` asks whether the treatment's success rate is higher.
    Effects: the risk difference mean(b) - mean(a) with Newcombe's hybrid score
    interval (this is what ci_low/ci_high bound), and in ``other_effects`` the
    conditional-MLE odds ratio with its exact interval.
    """
    check_options(alternative, confidence)
    xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
    res = stats.fisher_exact(table_of(xa, xb), alternative=alternative)
    return _unpaired_result(
        "Fisher's exact test",
        res.pvalue,
        None,
        xa,
        xb,
        alternative,
        confidence,
        "conditional exact test; risk-difference CI: Newcombe hybrid score",
    )


def boschloo(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Boschloo's exact unconditional test on two independent 0/1 samples.

    Uniformly more powerful than Fisher's test at the same level; slower. The
    statistic is Fisher's p-value, as in scipy.stats.boschloo_exact. Effects as
    in :func:`fisher_exact`.
    """
    check_options(alternative, confidence)
    xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
    res = stats.boschloo_exact(table_of(xa, xb), alternative=alternative)
    return _unpaired_result(
        "Boschloo's exact test",
        res.pvalue,
        res.statistic,
        xa,
        xb,
        alternative,
        confidence,
        "unconditional exact test; risk-difference CI: Newcombe hybrid score",
    )


def mcnemar_exact(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Exact McNemar test for paired 0/1 outcomes ``a[i]`` (baseline), ``b[i]`` (treatment).

    Conditions on the discordant pairs: under the null, the number where only the
    treatment succeeded is Binomial(discordant, 1/2) (scipy.stats.binomtest).
    With no discordant pairs there is no evidence either way and p = 1.
    Effects: paired risk difference with Newcombe's paired score interval, and
    the conditional odds ratio only_b / only_a with its exact interval.
    """
    check_options(alternative, confidence)
    xa, xb = binary_sample(a, "baseline"), binary_sample(b, "treatment")
    require_same_length(xa, xb)
    counts = paired_counts(xa, xb)
    discordant = counts.only_b + counts.only_a
    if discordant:
        p_value = stats.binomtest(counts.only_b, discordant, 0.5, alternative=alternative).pvalue
        note = None
    else:
        p_value, note = 1.0, "no discordant pairs: both conditions agree on every replicate"
    rd = risk_difference(xa, xb, confidence, alternative, paired=True)
    return TestResult(
        test="exact McNemar test",
        statistic=float(counts.only_b),
        df=None,
        p_value=clean_float(p_value),
        ci_low=rd.ci_low,
        ci_high=rd.ci_high,
        confidence=confidence,
        effect_name=rd.name,
        effect=rd.value,
        alternative=alternative,
        estimate_name="paired difference of proportions",
        estimate=rd.value,
        n_a=len(xa),
        n_b=len(xb),
        method=(
            f"binomial test on {discordant} discordant pairs "
            f"({counts.only_b} treatment-only, {counts.only_a} baseline-only); "
            "risk-difference CI: Newcombe paired score"
        ),
        ci_method="Newcombe paired score",
        other_effects=(paired_odds_ratio(counts, confidence, alternative),),
        note=note,
    )
