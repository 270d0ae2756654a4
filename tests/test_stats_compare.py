"""compare_samples: test choice, pairing, missing replicates, degenerate input, verdicts."""

import math

import pytest
from rich.console import Console

from crystallize_tui.render.tables import render_table
from crystallize_tui.stats import (
    DataError,
    adjust_comparisons,
    compare_samples,
    mcnemar_exact,
    welch_t,
    wilcoxon_signed_rank,
)
from crystallize_tui.stats.cells import format_number

SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def has_nan(c) -> bool:
    return any(isinstance(v, float) and math.isnan(v) for v in vars(c).values())


# --- choice of test and pairing ---------------------------------------------------


def test_pairing_when_asked_matches_r_paired_t():
    # Baseline drug 2, treatment drug 1: same numbers as R's paired t.test(g1, g2).
    c = compare_samples(SLEEP_2, SLEEP_1, paired=True)
    assert c.paired and c.test == "paired t-test"
    assert c.n_pairs == 10 and c.n_pairs_dropped == 0
    assert c.p_value == pytest.approx(0.002833, abs=5e-7)
    assert c.difference == pytest.approx(0.75 - 2.33)
    assert c.ci_high < 0 and c.verdict == "significant"
    assert c.effect_name == "Hedges' g" and c.effect < 0


def test_unpaired_uses_welch():
    c = compare_samples(SLEEP_2, SLEEP_1, paired=False)
    assert c.test == "Welch's t-test" and not c.paired and c.n_pairs is None
    assert c.p_value == pytest.approx(0.07939, abs=5e-6)
    assert (c.ci_low, c.ci_high) == pytest.approx((-3.3655, 0.2055), abs=5e-5)
    assert c.verdict == "not significant"


def test_equal_lengths_are_not_paired_unless_asked():
    # Two independent samples of equal length, each sorted: paired by position they
    # share their order, not a seed. Pairing them silently made about half of these
    # A/A comparisons "significant"; unpaired (the default by hand) keeps alpha.
    import numpy as np

    rng = np.random.default_rng(36)
    samples = np.sort(rng.normal(size=(400, 2, 10)), axis=2)
    verdicts = [compare_samples(s[0].tolist(), s[1].tolist()).verdict for s in samples]
    assert all(not compare_samples(s[0].tolist(), s[1].tolist()).paired for s in samples[:3])
    assert verdicts.count("significant") / len(verdicts) <= 0.08


def test_unequal_lengths_are_unpaired():
    c = compare_samples([1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0])
    assert not c.paired and c.test == "Welch's t-test"
    assert (c.n_baseline, c.n_treatment) == (3, 4)


def test_one_sided_alternative_follows_treatment_minus_baseline():
    # Drug 1 sleeps less than drug 2, so "less" is significant and "greater" is not.
    assert compare_samples(SLEEP_2, SLEEP_1, paired=True, alternative="less").p_value < 0.01
    assert compare_samples(SLEEP_2, SLEEP_1, paired=True, alternative="greater").p_value > 0.99


def test_binary_unpaired_uses_fisher_with_both_effects():
    c = compare_samples([1] * 1 + [0] * 5, [1] * 8 + [0] * 2)
    assert c.test == "Fisher's exact test"
    assert c.p_value == pytest.approx(0.034965, abs=5e-7)
    assert c.effect_name == "risk difference"
    assert c.difference == pytest.approx(0.8 - 1 / 6)
    assert c.ci_low < c.difference < c.ci_high
    assert c.other_effects[0].name == "odds ratio" and c.other_effects[0].value > 1


def test_binary_paired_uses_mcnemar_and_accepts_bools():
    base = [True, False, False, True, False, False, False, False]
    treat = [True, True, True, True, True, True, False, True]
    c = compare_samples(base, treat, paired=True)
    assert c.test == "exact McNemar test" and c.paired
    assert c.p_value == pytest.approx(mcnemar_exact(base, treat).p_value)
    assert c.difference == pytest.approx(5 / 8)


def test_named_tests():
    base, treat = [1.0, 2.0, 3.0, 4.0, 5.5], [2.5, 3.0, 4.5, 6.0, 7.0]
    assert compare_samples(base, treat, test="rank", paired=True).test == "Wilcoxon signed-rank test"
    c = compare_samples(base, treat, test="rank")
    assert c.test == "Mann-Whitney U test" and c.effect_name == "rank-biserial r"
    assert compare_samples(base, treat, test="welch").test == "Welch's t-test"
    assert compare_samples(base, treat[:4], test="mann_whitney").n_treatment == 4
    bits_a, bits_b = [0, 0, 1, 0, 0, 1], [1, 1, 1, 0, 1, 1]
    assert compare_samples(bits_a, bits_b, test="boschloo").test == "Boschloo's exact test"
    assert compare_samples(bits_a, bits_b, test="fisher").test == "Fisher's exact test"
    assert compare_samples(bits_a, bits_b, test="mcnemar").paired


def test_invalid_options_raise():
    with pytest.raises(ValueError, match="test must be one of"):
        compare_samples([1, 2], [3, 4], test="anova")
    with pytest.raises(ValueError, match="unpaired"):
        compare_samples([1, 2], [3, 4], test="welch", paired=True)
    with pytest.raises(ValueError, match="alternative"):
        compare_samples([1, 2], [3, 4], alternative="bigger")
    with pytest.raises(ValueError, match="alpha"):
        compare_samples([1, 2], [3, 4], alpha=5)


# --- missing replicates --------------------------------------------------------------


def test_pairing_drops_pairs_with_a_missing_side():
    c = compare_samples([1.0, 2.0, None, 4.0, 5.0, 6.0], [2.0, None, 4.0, 5.5, 7.0, 6.5], paired=True)
    assert c.paired and c.n_pairs == 4 and c.n_pairs_dropped == 2
    assert (c.n_missing_baseline, c.n_missing_treatment) == (1, 1)
    assert c.mean_baseline == pytest.approx((1 + 4 + 5 + 6) / 4)
    assert "dropped 2 pair(s)" in c.note and c.p_value is not None


def test_unpaired_drops_missing_values_per_side():
    c = compare_samples([1.0, None, 3.0, 4.0], [2.0, 5.0, None, 6.0, 7.0], paired=False)
    assert (c.n_baseline, c.n_treatment) == (3, 4)
    assert (c.n_missing_baseline, c.n_missing_treatment) == (1, 1)
    assert "1 baseline, 1 treatment" in c.note


def test_nan_counts_as_missing():
    c = compare_samples([1.0, float("nan"), 3.0, 2.0], [2.0, 5.0, 4.0, 6.0], paired=True)
    assert c.n_pairs == 3 and c.n_pairs_dropped == 1


# --- degenerate input: explicit answers, never exceptions or NaN ----------------------


@pytest.mark.parametrize(
    ("base", "treat", "reason"),
    [
        ([], [], "no data"),
        ([None, None], [None, None], "no data"),
        (None, [1.0, 2.0], "no data"),
        ([1.0], [2.0, 3.0, 4.0], "n < 2"),
        ([1.0, None, 3.0], [2.0, 5.0, None], "n < 2"),  # one complete pair
    ],
)
def test_too_little_data_is_inconclusive(base, treat, reason):
    c = compare_samples(base, treat, paired=base is not None and len(base) == len(treat))
    assert c.verdict == f"inconclusive ({reason})" and c.inconclusive
    assert c.p_value is None and c.p_adjusted is None and c.note
    assert not has_nan(c)


def test_non_numeric_value_is_named():
    c = compare_samples([1.0, 2.0, 3.0], [1.0, "fast", 2.0])
    assert c.verdict == "inconclusive (non-numeric value)"
    assert "'fast'" in c.note and "treatment" in c.note and "replicate 1" in c.note
    c = compare_samples([1.0, 2.0, "1.5"], [1.0, 2.0, 3.0])
    assert "'1.5'" in c.note and "baseline" in c.note
    c = compare_samples([1.0, float("inf")], [1.0, 2.0])
    assert "non-finite" in c.note and c.p_value is None


def test_identical_values_give_p_one():
    c = compare_samples([3.0] * 5, [3.0] * 5, paired=False)
    assert c.p_value == 1.0 and c.verdict == "not significant"
    assert "identical" in c.note and c.difference == 0.0
    assert not has_nan(c)
    paired = compare_samples([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], paired=True)
    assert paired.p_value == 1.0 and "zero" in paired.note


def test_floating_point_noise_is_not_a_difference():
    c = compare_samples([0.1 + 0.2] * 4, [0.3] * 4, paired=False)
    assert c.p_value == 1.0 and c.verdict == "not significant"


def test_constant_but_different_sides_are_exact():
    c = compare_samples([1.0] * 4, [2.0] * 4, paired=False)
    assert c.verdict == "inconclusive (no variance)" and c.p_value is None
    assert "difference 1 is exact" in c.note
    assert c.difference == 1.0 and c.effect is None and not has_nan(c)


def test_constant_paired_difference_is_decided_by_the_exact_sign_test():
    # Every pair +30: the clearest effect there is. Two-sided exact sign test:
    # p = 2 * 0.5^n (R: binom.test(6, 6)$p.value = 0.03125).
    base = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    c = compare_samples(base, [x + 30 for x in base], paired=True)
    assert c.test == "exact sign test" and c.p_value == pytest.approx(0.03125)
    assert c.verdict == "significant" and "every paired difference is +30" in c.note
    assert (c.ci_low, c.ci_high) == (30.0, 30.0) and c.difference == 30.0
    r = compare_samples(base, [x + 30 for x in base], test="wilcoxon")
    assert r.test == "exact sign test" and r.p_value == pytest.approx(0.03125)
    # Five pairs cannot reach 0.05 (p >= 0.0625): said, and the interval is unbounded.
    few = compare_samples(base[:5], [x + 30 for x in base[:5]], paired=True)
    assert few.verdict == "not significant" and few.p_value == pytest.approx(0.0625)
    assert "cannot be significant" in few.note and few.ci_low == -math.inf


def test_paired_with_unequal_lengths_is_inconclusive():
    c = compare_samples([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    assert c.verdict == "inconclusive (lengths differ)" and "3 baseline and 2 treatment" in c.note


def test_binary_test_on_non_binary_data_is_inconclusive():
    c = compare_samples([0, 1, 0, 1], [1, 1, 0.5, 1], test="fisher")
    assert c.verdict == "inconclusive (not binary)" and "0.5" in c.note


def test_all_zero_binary_outcomes():
    c = compare_samples([0, 0, 0, 0], [0, 0, 0, 0, 0])
    assert c.test == "Fisher's exact test" and c.p_value == 1.0
    assert c.other_effects[0].value is None and not has_nan(c)
    paired = compare_samples([1, 0, 1], [1, 0, 1], paired=True)
    assert paired.p_value == 1.0 and "no discordant pairs" in paired.note


def test_primitives_reject_bad_input_with_clear_messages():
    with pytest.raises(DataError, match="missing value"):
        welch_t([1.0, None, 2.0], [1.0, 2.0])
    with pytest.raises(DataError, match="non-numeric value 'x'"):
        welch_t([1.0, 2.0], [1.0, "x"])
    with pytest.raises(DataError, match="at least 2"):
        welch_t([1.0], [1.0, 2.0])
    with pytest.raises(DataError, match="equal lengths"):
        wilcoxon_signed_rank([1.0, 2.0], [1.0])


# --- verdicts, corrections, bootstrap, rendering ---------------------------------------


def test_adjusted_p_values_drive_the_verdict():
    comps = [
        compare_samples(SLEEP_2, SLEEP_1, paired=True),  # p = 0.0028
        compare_samples([1.0, 2.0, 3.0, 4.0], [1.5, 2.2, 3.9, 4.1], paired=False),
        compare_samples([1.0], [2.0, 3.0]),  # inconclusive: no p-value
    ]
    assert [c.p_adjusted for c in comps] == [c.p_value for c in comps]
    adjusted = adjust_comparisons(comps, "holm")
    assert adjusted[0].p_adjusted == pytest.approx(2 * comps[0].p_value)  # family of 2
    assert adjusted[0].verdict == "significant" and adjusted[0].correction == "holm"
    assert adjusted[2].verdict == "inconclusive (n < 2)" and adjusted[2].p_adjusted is None
    strict = comps[0].with_p_adjusted(0.2, "holm")
    assert strict.verdict == "not significant" and strict.p_value == comps[0].p_value


def test_bootstrap_is_seeded_and_brackets_the_difference():
    a, b = SLEEP_2, SLEEP_1
    first = compare_samples(a, b, paired=False, bootstrap=True, seed=3)
    again = compare_samples(a, b, paired=False, bootstrap=True, seed=3)
    assert first.bootstrap_ci_low == again.bootstrap_ci_low
    assert first.bootstrap_ci_low < first.difference < first.bootstrap_ci_high
    assert "bootstrap" in first.method
    paired = compare_samples(a, b, paired=True, bootstrap=True)
    assert paired.bootstrap_ci_high < 0  # every subject slept less on drug 1


def test_render_table_shows_rows_and_notes_without_nan():
    comps = [
        compare_samples(SLEEP_2, SLEEP_1, paired=True),
        compare_samples([1.0] * 3, [2.0] * 3, paired=False),
        compare_samples([0, 1, 0, 0], [1, 1, 1, 0, 1], alternative="greater"),
    ]
    table = render_table(comps, labels=["sleep", "constant", "success"], title="demo")
    console = Console(record=True, width=220)
    console.print(table)
    text = console.export_text()
    assert "sleep" in text and "paired t" in text and "significant" in text
    assert "constant: no variance" in text and "inconclusive (no variance)" in text
    assert "OR " in text and "odds ratio" in text and "∞" in text  # one-sided interval
    assert "nan" not in text.lower()
    assert format_number(None) == "—" and format_number(float("-inf")) == "−∞"
