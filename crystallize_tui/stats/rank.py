"""Rank tests: Mann-Whitney U (independent) and Wilcoxon signed-rank (paired)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from ._data import as_floats, differences, require_n, require_same_length
from .effects import matched_pairs_rank_biserial, rank_biserial
from .results import TestResult, check_options, clean_float

# Below this size (and without ties) p-values are exact, as R's wilcox.test does;
# scipy's own "auto" switches to the normal approximation much earlier.
EXACT_LIMIT = 50


def _wilcoxon(d: list[float], alternative: str, exact: bool):
    method = "exact" if exact else "asymptotic"
    try:
        return stats.wilcoxon(d, alternative=alternative, correction=not exact, method=method)
    except ValueError:
        if exact:
            raise
        # scipy < 1.13 names the normal approximation "approx".
        return stats.wilcoxon(d, alternative=alternative, correction=True, method="approx")


def _exact_conditional_p(nonzero: list[float], ranks: list[float], v_plus: float, alternative: str) -> float:
    """Exact p of V given the (mid)ranks: under the null each difference's sign is + or -
    with probability 1/2 whatever the ties, so V's law is that of a sum of independent
    ``rank * Bernoulli(1/2)`` terms (the conditional test of coin and exactRankTests).
    Midranks are multiples of 1/2, so the sums are counted exactly on doubled ranks."""
    doubled = [int(round(2 * r)) for r in ranks]
    counts = [1] + [0] * sum(doubled)
    for r in doubled:
        for total in range(len(counts) - 1, r - 1, -1):
            counts[total] += counts[total - r]
    whole = 2 ** len(doubled)
    v = int(round(2 * v_plus))
    upper = sum(counts[v:]) / whole
    lower = sum(counts[: v + 1]) / whole
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    return min(1.0, 2.0 * min(upper, lower))


def _mann_whitney_conditional_p(xa: list[float], xb: list[float], alternative: str) -> float:
    """Exact p of the treatment's rank sum given the (mid)ranks of the pooled values: under
    the null every choice of len(xb) of the pooled ranks is equally likely. Counted exactly
    on doubled ranks (midranks are multiples of 1/2): ways[k][s] choices of k ranks summing
    to s."""
    doubled = [int(round(2 * r)) for r in stats.rankdata(xa + xb)]
    k_b = len(xb)
    ways = [[0] * (sum(doubled) + 1) for _ in range(k_b + 1)]
    ways[0][0] = 1
    for r in doubled:
        for k in range(k_b, 0, -1):
            below, row = ways[k - 1], ways[k]
            for total in range(len(row) - 1, r - 1, -1):
                if below[total - r]:
                    row[total] += below[total - r]
    observed = sum(doubled[len(xa):])
    whole = math.comb(len(doubled), k_b)
    upper = sum(ways[k_b][observed:]) / whole
    lower = sum(ways[k_b][: observed + 1]) / whole
    if alternative == "greater":
        return upper
    if alternative == "less":
        return lower
    return min(1.0, 2.0 * min(upper, lower))


def mann_whitney(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Mann-Whitney U test of treatment ``b`` against baseline ``a``.

    ``alternative="greater"``: ``b`` is stochastically larger. The statistic is U
    of the treatment (pairs with b > a, ties counting half; R's W for
    ``wilcox.test(b, a)``). Exact p-value without ties and with both n < 50,
    else the normal approximation with tie and continuity corrections.
    Effect: rank-biserial r (+1 when every b exceeds every a). No CI.
    """
    check_options(alternative, confidence)
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_n(xa, 1, "baseline")
    require_n(xb, 1, "treatment")
    exact = len(set(xa + xb)) == len(xa + xb) and max(len(xa), len(xb)) < EXACT_LIMIT
    method = "exact" if exact else "asymptotic"
    res = stats.mannwhitneyu(xb, xa, alternative=alternative, method=method, use_continuity=True)
    p_value = clean_float(res.pvalue)
    described = "exact" if exact else "normal approximation (tie and continuity corrected)"
    # As for Wilcoxon: with ties and few values the approximation can claim a p below what
    # any arrangement of the values gives (3 vs 4 values: 0.046, "significant", where
    # nothing is below 2/35 = 0.057); then report the exact p given the tied ranks.
    floor = (2.0 if alternative == "two-sided" else 1.0) / math.comb(len(xa) + len(xb), len(xb))
    if not exact and p_value is not None and p_value < floor:
        p_value = _mann_whitney_conditional_p(xa, xb, alternative)
        described = "exact conditional on the tied ranks (the normal approximation fails at this size)"
    return TestResult(
        test="Mann-Whitney U test",
        statistic=clean_float(res.statistic),
        df=None,
        p_value=p_value,
        ci_low=None,
        ci_high=None,
        confidence=confidence,
        effect_name="rank-biserial r",
        effect=rank_biserial(xa, xb),
        alternative=alternative,
        n_a=len(xa),
        n_b=len(xb),
        method=described,
    )


def wilcoxon_signed_rank(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Wilcoxon signed-rank test on the paired differences ``b[i] - a[i]``.

    Zero differences are dropped (Wilcoxon's convention, as R). The statistic is
    V, the rank sum of the positive differences. Exact p-value when no zeros or
    tied |differences| remain and n < 50, else the normal approximation with
    continuity correction (R's defaults). Effect: matched-pairs rank-biserial r.
    If every difference is zero there is nothing to rank and p = 1.
    """
    check_options(alternative, confidence)
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_same_length(xa, xb)
    require_n(xa, 1, "pairs")
    d = differences(xa, xb)
    nonzero = [x for x in d if x != 0.0]
    common = dict(
        df=None,
        ci_low=None,
        ci_high=None,
        confidence=confidence,
        effect_name="matched-pairs rank-biserial r",
        alternative=alternative,
        n_a=len(xa),
        n_b=len(xb),
    )
    if not nonzero:
        return TestResult(
            test="Wilcoxon signed-rank test",
            statistic=0.0,
            p_value=1.0,
            effect=None,
            method="no test: all differences are zero",
            note="every paired difference is zero",
            **common,
        )
    magnitudes = [abs(x) for x in nonzero]
    exact = len(nonzero) == len(d) and len(set(magnitudes)) == len(magnitudes)
    exact = exact and len(d) < EXACT_LIMIT
    res = _wilcoxon(nonzero, alternative, exact)
    ranks = stats.rankdata(magnitudes)
    v_plus = math.fsum(r for r, x in zip(ranks, nonzero, strict=True) if x > 0)
    dropped = len(d) - len(nonzero)
    p_value = clean_float(res.pvalue)
    method = "exact" if exact else "normal approximation (continuity corrected)"
    # With ties and few pairs the normal approximation can claim a p below what any sign
    # assignment gives (4 pairs: 0.089 where nothing is below 0.125; 5 pairs: "significant"
    # where nothing is below 0.0625). Then the exact conditional p is reported instead.
    floor = 0.5 ** len(nonzero) * (2.0 if alternative == "two-sided" else 1.0)
    if not exact and p_value is not None and p_value < floor:
        p_value = _exact_conditional_p(nonzero, list(ranks), v_plus, alternative)
        method = "exact conditional on the tied ranks (the normal approximation fails at this size)"
    return TestResult(
        test="Wilcoxon signed-rank test",
        statistic=v_plus,
        p_value=p_value,
        effect=matched_pairs_rank_biserial(xa, xb),
        method=method + (f"; {dropped} zero difference(s) dropped" if dropped else ""),
        **common,
    )


def sign_test(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "two-sided",
    confidence: float = 0.95,
) -> TestResult:
    """Exact sign test on the paired differences ``b[i] - a[i]``.

    Under the null each non-zero difference is positive with probability 1/2, so the
    number of positive ones is Binomial(n, 1/2) (scipy.stats.binomtest); zeros are
    dropped. It needs no spread, so it decides a constant non-zero difference (every
    pair +30), where a t-test has nothing to divide by. The CI bounds the median
    difference by order statistics (Conover 1999, 3.4): unbounded when n is too small
    for the confidence asked, which is exactly when the test cannot reach alpha.
    """
    check_options(alternative, confidence)
    xa, xb = as_floats(a, "baseline"), as_floats(b, "treatment")
    require_same_length(xa, xb)
    require_n(xa, 1, "pairs")
    d = sorted(differences(xa, xb))
    nonzero = [x for x in d if x != 0.0]
    positive = sum(1 for x in nonzero if x > 0)
    p_value = (
        stats.binomtest(positive, len(nonzero), 0.5, alternative=alternative).pvalue
        if nonzero else 1.0
    )
    low, high = _median_interval(d, confidence, alternative)
    return TestResult(
        test="exact sign test",
        statistic=float(positive),
        df=None,
        p_value=clean_float(p_value),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        effect_name=None,
        effect=None,
        alternative=alternative,
        estimate_name="median paired difference",
        estimate=float(stats.scoreatpercentile(d, 50)),
        n_a=len(xa),
        n_b=len(xb),
        method=f"binomial test on the signs of {len(nonzero)} non-zero difference(s) "
        f"({positive} positive)",
        ci_method="order statistics of the differences (sign-test interval)",
    )


def _median_interval(d: list[float], confidence: float, alternative: str) -> tuple[float, float]:
    # The k-th smallest and k-th largest differences bound the median with coverage
    # 1 - 2 P(Binomial(n, 1/2) <= k - 1); take the largest k that still covers.
    n = len(d)
    tail = (1.0 - confidence) / (2.0 if alternative == "two-sided" else 1.0)
    k = int(stats.binom.ppf(tail, n, 0.5))  # smallest k with P(X <= k) >= tail
    if stats.binom.cdf(k, n, 0.5) > tail:
        k -= 1
    # Now P(X <= k) <= tail, so the interval [d_(k+1), d_(n-k)] (1-based) covers.
    if k < 0:
        low, high = -math.inf, math.inf
    else:
        low, high = d[k], d[n - 1 - k]
    if alternative == "greater":
        high = math.inf
    elif alternative == "less":
        low = -math.inf
    return low, high
