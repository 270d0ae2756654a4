"""Wilcoxon with ties and few pairs: the p shown never goes below what the test can give."""

from __future__ import annotations

import random

import pytest
from scipy import stats

from crystallize_tui import Experiment, Treatment
from crystallize_tui.stats import wilcoxon_signed_rank
from crystallize_tui.stats.rank import _exact_conditional_p, _mann_whitney_conditional_p


def _step(config, ctx):
    k = ctx.replicate
    ctx.metrics.add("score", k + config["bump"] * (1 if k < 4 else 2))


def test_five_tied_pairs_all_up_are_not_significant_through_compare() -> None:
    # Paired differences 1, 1, 1, 1, 2: all five positive, so the exact two-sided p is
    # 2 x 0.5^5 = 0.0625. The normal approximation said 0.0477, "significant", beside a
    # note that 5 pairs cannot reach 0.05.
    experiment = Experiment(
        name="rank_small", datasource={"bump": 0}, pipeline=[_step], replicates=5, store=None
    )
    experiment.treatments = [Treatment("up", {"bump": 1})]
    row = experiment.run().compare(test="rank")["up", "score"]
    assert row.p_value == pytest.approx(0.0625)
    assert row.verdict == "not significant"
    assert "exact conditional" in row.comparison.method


def test_exact_conditional_p_equals_scipys_exact_p_without_ties() -> None:
    # Without ties the conditional law is the ordinary exact one (scipy's method="exact").
    rng = random.Random(3)
    for n in (4, 7, 12):
        a = [rng.gauss(0, 1) for _ in range(n)]
        b = [x + rng.gauss(2.5, 0.2) for x in a]  # large shift, so the approximation would undercut
        for alternative in ("two-sided", "greater"):
            d = [y - x for x, y in zip(a, b, strict=True)]
            ranks = list(stats.rankdata([abs(x) for x in d]))
            v = sum(r for r, x in zip(ranks, d, strict=True) if x > 0)
            expected = stats.wilcoxon(d, alternative=alternative, method="exact").pvalue
            assert _exact_conditional_p(d, ranks, v, alternative) == pytest.approx(expected)


def test_r_sleep_value_is_kept_where_the_approximation_is_attainable() -> None:
    # R: wilcox.test(sleep g1, g2, paired = TRUE) -> p = 0.009091 (normal approximation):
    # 9 non-zero differences can give down to 2 x 0.5^9 = 0.0039, so R's value stands.
    g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    assert wilcoxon_signed_rank(g2, g1).p_value == pytest.approx(0.009091, abs=5e-7)


def _ab_step(config, ctx):
    # Baseline 1, 1, 2; treatment 3, 3, 4, 4 (ties on both sides; every treatment value higher).
    values = config["values"]
    if ctx.replicate < len(values):
        ctx.metrics.add("score", values[ctx.replicate])


def test_mann_whitney_three_vs_four_tied_values_cannot_be_significant() -> None:
    # Two-sided, the most extreme arrangement of 3 and 4 values has p = 2 / C(7, 3) = 0.0571;
    # the normal approximation said 0.0456, "significant".
    experiment = Experiment(
        name="mw_small", datasource={"values": [1.0, 1.0, 2.0]}, pipeline=[_ab_step], replicates=4, store=None
    )
    experiment.treatments = [Treatment("up", {"values": [3.0, 3.0, 4.0, 4.0]})]
    row = experiment.run().compare(test="rank", paired=False)["up", "score"]
    assert row.p_value == pytest.approx(2 / 35)
    assert row.verdict == "not significant"
    assert "cannot be significant" in (row.comparison.note or "")


def test_mann_whitney_conditional_p_equals_scipys_exact_p_without_ties() -> None:
    rng = random.Random(5)
    for n_a, n_b in ((3, 4), (5, 6), (8, 7)):
        a = [rng.gauss(0, 1) for _ in range(n_a)]
        b = [rng.gauss(1, 1) for _ in range(n_b)]
        for alternative in ("two-sided", "greater", "less"):
            expected = stats.mannwhitneyu(b, a, alternative=alternative, method="exact").pvalue
            assert _mann_whitney_conditional_p(a, b, alternative) == pytest.approx(expected)
