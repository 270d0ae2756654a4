"""compare_samples on data that used to fool it: tiny scales, huge offsets, constant
paired differences, inf, a metric missing on one side, bootstrap at small n."""

import math

import numpy as np
import pytest

from crystallize_tui.stats import compare_samples


def normal(seed: int, n: int = 12) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


# --- #34: constancy is judged on the data's own scale --------------------------------


@pytest.mark.parametrize("paired", [False, True])
def test_tiny_scale_values_keep_their_spread(paired):
    # Measurements in the 1e-13 range (e.g. a rate in seconds per operation): the same
    # answer as for the data times 1e13, not "all values are identical, p = 1".
    base, treat = normal(1), normal(2) + 3.0
    small = compare_samples((base * 1e-13).tolist(), (treat * 1e-13).tolist(), paired=paired)
    plain = compare_samples(base.tolist(), treat.tolist(), paired=paired)
    assert small.test == plain.test and small.verdict == "significant"
    assert small.p_value == pytest.approx(plain.p_value, rel=1e-6)
    assert small.difference == pytest.approx(plain.difference * 1e-13, rel=1e-9)


@pytest.mark.parametrize("paired", [False, True])
def test_huge_offset_keeps_the_noise(paired):
    # 1e15 + noise of sd 1 (nanosecond timestamps, large counters): floats still resolve
    # the noise (spacing 0.125), so this is data with a spread, not a constant.
    base = (1e15 + normal(3)).tolist()
    treat = (1e15 + 5.0 + normal(4)).tolist()
    c = compare_samples(base, treat, paired=paired)
    assert c.test in ("Welch's t-test", "paired t-test"), c.note
    assert c.verdict == "significant" and c.difference == pytest.approx(5.0, abs=1.5)
    assert c.p_value < 1e-4


def test_floating_point_noise_still_counts_as_no_difference():
    c = compare_samples([0.1 + 0.2] * 4, [0.3] * 4)
    assert c.p_value == 1.0 and "identical" in c.note
    paired = compare_samples([0.1, 0.2, 0.7], [0.1 + 0.2, 0.2 + 0.2, 0.7 + 0.2], paired=True)
    assert paired.test == "exact sign test"  # differences 0.2 up to rounding: constant


# --- #35 and #38: decided when it can be; said when it cannot --------------------------


def test_mcnemar_with_few_discordant_pairs_says_it_cannot_reach_alpha():
    # 4 discordant pairs, all for the treatment: exact p = 2 / 2^4 = 0.125 at best.
    c = compare_samples([0] * 10, [1] * 4 + [0] * 6, paired=True)
    assert c.test == "exact McNemar test" and c.p_value == pytest.approx(0.125)
    assert "4 discordant pair(s)" in c.note and "cannot give p below 0.125" in c.note


def test_wilcoxon_with_five_pairs_says_it_cannot_reach_alpha():
    c = compare_samples([1.0, 2.0, 3.0, 4.0, 5.0], [2.1, 3.3, 4.2, 5.6, 6.4], test="wilcoxon")
    assert c.p_value == pytest.approx(0.0625) and c.verdict == "not significant"
    assert "cannot give p below 0.0625" in c.note
    six = compare_samples([1.0, 2, 3, 4, 5, 6], [2.1, 3.3, 4.2, 5.6, 6.4, 7.7], test="wilcoxon")
    assert six.note is None or "cannot" not in six.note


def test_fisher_with_tiny_groups_says_it_cannot_reach_alpha():
    # 3 vs 3 users, all converting in one arm: Fisher's two-sided p = 0.1 at best.
    c = compare_samples([0, 0, 0], [1, 1, 1], test="fisher")
    assert c.p_value == pytest.approx(0.1) and "cannot give p below 0.1" in c.note


def test_bootstrap_at_small_n_carries_a_warning():
    c = compare_samples(normal(5, 8).tolist(), normal(6, 8).tolist(), bootstrap=True)
    assert "under-covers" in c.note
    big = compare_samples(normal(5, 30).tolist(), normal(6, 30).tolist(), bootstrap=True)
    assert big.note is None or "under-covers" not in big.note


# --- #37: an interval that points the other way from the test is explained ------------


def test_interval_and_test_disagreement_is_explained():
    c = compare_samples([0] * 10, [1] * 4 + [0] * 6, paired=True)
    assert c.ci_low > 0 and c.verdict == "not significant"  # Newcombe excludes 0, p 0.125
    assert "interval excludes 0 but p = 0.125 > alpha" in c.note
    assert "verdict follows the test" in c.note
    odds = c.other_effects[0]
    assert odds.ci_low < 1 < odds.ci_high  # the exact interval agrees with the test


# --- #39: wording ------------------------------------------------------------------------


def test_infinity_is_called_non_finite_not_non_numeric():
    c = compare_samples([1.0, 2.0, math.inf], [1.0, 2.0, 3.0])
    assert c.verdict == "inconclusive (non-finite value)"
    assert "non-finite value inf in baseline (replicate 2)" in c.note
    assert compare_samples([1.0, 2.0], [1.0, "x"]).verdict == "inconclusive (non-numeric value)"


def test_metric_missing_in_the_treatment_names_that_side():
    c = compare_samples([1.0, 2.0, 3.0], [None, None, None], paired=True)
    assert c.verdict == "inconclusive (no data)"
    assert "no values in the treatment" in c.note and "either side" not in c.note
    both = compare_samples([None, None], [None, None])
    assert "either side" in both.note


def test_sorted_independent_samples_keep_alpha_unpaired():
    # #36 as a simulation: equal-length independent samples are compared unpaired by
    # default, so sorting them (which would correlate positions) changes nothing.
    rng = np.random.default_rng(360)
    samples = np.sort(rng.normal(size=(1000, 2, 10)), axis=2)
    rate = np.mean([compare_samples(s[0].tolist(), s[1].tolist()).verdict == "significant"
                    for s in samples])
    assert abs(rate - 0.05) <= 0.02, rate


def test_sign_test_fallback_keeps_alpha_under_the_null():
    # Integer-valued metrics where a run of equal differences can happen by chance: the
    # paired comparison (t-test, or the sign test when every difference is equal) must not
    # reject a true null more than alpha.
    rng = np.random.default_rng(35)
    base = rng.integers(0, 3, size=(2000, 6))
    treat = base + rng.choice([-1, 0, 1], p=[0.45, 0.1, 0.45], size=(2000, 6))  # symmetric
    verdicts = [compare_samples(a.tolist(), b.tolist(), paired=True).verdict
                for a, b in zip(base, treat, strict=True)]
    assert any(np.all(b - a == b[0] - a[0]) and b[0] != a[0]
               for a, b in zip(base, treat, strict=True))  # the fallback does happen
    assert verdicts.count("significant") / len(verdicts) <= 0.05 + 0.015


def test_p_value_never_rounds_onto_alpha_beside_its_verdict():
    from crystallize_tui.stats.cells import format_p, row_cells

    c = compare_samples([1.0, 2.0, 3.0, 4.0], [1.5, 2.6, 3.2, 4.9], paired=True)
    shown = row_cells(c.with_p_adjusted(0.049996, "holm"))
    assert shown["verdict"] == "significant" and shown["p_adjusted"] == "0.049996"
    assert format_p(0.050004, 0.05) == "0.050004" and format_p(0.12345, 0.05) == "0.1235"
    assert format_p(0.00004, 0.05) == "<0.0001"


def test_ulp_noise_between_paired_values_is_no_difference():
    # The same numbers computed two ways ((k * 0.1) * 3 vs k * 0.3) differ in the last
    # bit in 13 of 20 pairs: rounding, judged on the values' scale, not an effect.
    a = [(k * 0.1) * 3 for k in range(1, 21)]
    b = [k * 0.3 for k in range(1, 21)]
    assert sum(x != y for x, y in zip(a, b, strict=True)) > 10
    c = compare_samples(a, b, paired=True)
    assert c.p_value == 1.0 and c.verdict == "not significant" and "zero" in c.note
