"""Every statistical method checked against values published by others (source beside each)."""

import pytest

from crystallize_tui.stats import (
    adjust_pvalues,
    boschloo,
    cohens_dz,
    fisher_exact,
    hedges_g,
    hedges_g_from_summary,
    mann_whitney,
    mcnemar_exact,
    newcombe_interval,
    newcombe_paired_interval,
    odds_ratio,
    paired_t,
    rank_biserial,
    sign_test,
    welch_t,
    wilcoxon_signed_rank,
)
from crystallize_tui.stats.proportions import PairedCounts

# R's `sleep` data set: extra hours of sleep under drug 1 (group 1) and drug 2 (group 2).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def ones_and_zeros(k: int, n: int) -> list[int]:
    return [1] * k + [0] * (n - k)


def pairs(both: int, only_b: int, only_a: int, neither: int) -> tuple[list[int], list[int]]:
    """Paired 0/1 samples (baseline a, treatment b) with the given cell counts."""
    a = [1] * both + [0] * only_b + [1] * only_a + [0] * neither
    b = [1] * both + [1] * only_b + [0] * only_a + [0] * neither
    return a, b


# --- t-tests -----------------------------------------------------------------
# Our differences are b - a. R's t.test(g1, g2) reports mean(g1) - mean(g2), so the
# baseline a is group 2 and the treatment b is group 1: same sign as R.


def test_welch_matches_r_sleep():
    # R: t.test(extra ~ group, data = sleep) -> t = -1.8608, df = 17.776,
    # p-value = 0.07939, 95 percent CI -3.3655 to 0.2055 (the example in R's ?t.test).
    r = welch_t(SLEEP_2, SLEEP_1)
    assert r.statistic == pytest.approx(-1.8608, abs=5e-5)
    assert r.df == pytest.approx(17.776, abs=5e-4)
    assert r.p_value == pytest.approx(0.07939, abs=5e-6)
    assert r.ci_low == pytest.approx(-3.3655, abs=5e-5)
    assert r.ci_high == pytest.approx(0.2055, abs=5e-5)
    assert r.estimate == pytest.approx(0.75 - 2.33)


def test_paired_t_matches_r_sleep():
    # R: t.test(g1, g2, paired = TRUE) -> t = -4.0621, df = 9, p-value = 0.002833.
    r = paired_t(SLEEP_2, SLEEP_1)
    assert r.statistic == pytest.approx(-4.0621, abs=5e-5)
    assert r.df == 9
    assert r.p_value == pytest.approx(0.002833, abs=5e-7)


# --- binary tests --------------------------------------------------------------


def test_fisher_matches_published_table():
    # Fisher's exact test on [[8, 2], [1, 5]]: p = 0.034965 (reference value given in
    # this module's specification).
    # Rows as groups: 8 of 10 vs 1 of 6 (the two-sided p is the same either way).
    r = fisher_exact(ones_and_zeros(1, 6), ones_and_zeros(8, 10))
    assert r.p_value == pytest.approx(0.034965, abs=5e-7)


def test_fisher_odds_ratio_matches_r_tea_tasting():
    # R ?fisher.test TeaTasting example, matrix(c(3, 1, 1, 3), 2): p-value = 0.4857,
    # odds ratio 6.408309, 95% CI lower limit 0.2117329 (R output reproduced in
    # several tutorials). The upper limit is not compared: R finds it with uniroot's
    # default tolerance (621.93 vs the exact root near 626.2).
    a, b = ones_and_zeros(1, 4), ones_and_zeros(3, 4)
    r = fisher_exact(a, b)
    assert r.p_value == pytest.approx(0.4857, abs=5e-5)
    oratio = r.other_effects[0]
    assert oratio.value == pytest.approx(6.408309, rel=5e-6)
    assert oratio.ci_low == pytest.approx(0.2117329, rel=5e-5)
    # One-sided: fisher.test(TeaTasting, alternative = "greater") -> p-value = 0.2429.
    assert fisher_exact(a, b, alternative="greater").p_value == pytest.approx(0.2429, abs=5e-5)


def test_odds_ratio_matches_scipy_documentation():
    # scipy.stats.contingency.odds_ratio docs: table [[7, 15], [58, 472]] (exposed vs
    # unexposed columns) -> 3.7836687705553493, CI (1.2514829132266785, 10.363493716701269).
    exposed, unexposed = ones_and_zeros(7, 65), ones_and_zeros(15, 487)
    r = odds_ratio(unexposed, exposed)
    assert r.value == pytest.approx(3.7836687705553493, rel=1e-9)
    assert r.ci_low == pytest.approx(1.2514829132266785, rel=1e-7)
    assert r.ci_high == pytest.approx(10.363493716701269, rel=1e-7)


def test_boschloo_matches_scipy_documentation():
    # scipy.stats.boschloo_exact docs: 74/117 professors vs 31/63 scientists very
    # satisfied, alternative "greater" -> statistic 0.0483, pvalue 0.0355 (the docs
    # print both cut to four decimals, so compare the first four decimals).
    r = boschloo(ones_and_zeros(31, 63), ones_and_zeros(74, 117), alternative="greater")
    assert 0.0483 <= r.statistic < 0.0484
    assert 0.0355 <= r.p_value < 0.0356


def test_newcombe_interval_matches_newcombe_1998():
    # Newcombe (1998), Stat Med 17:873-890, Table II, method 10:
    # (a) 56/70 - 48/80: 0.0524 to 0.3339; (b) 9/10 - 3/10: 0.1705 to 0.8090.
    diff, low, high = newcombe_interval(48, 80, 56, 70)
    assert diff == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    _, low, high = newcombe_interval(3, 10, 9, 10)
    assert (low, high) == pytest.approx((0.1705, 0.8090), abs=5e-5)


def test_fisher_reports_newcombe_risk_difference():
    # Same published example through the test: the CI bounds the risk difference.
    r = fisher_exact(ones_and_zeros(48, 80), ones_and_zeros(56, 70))
    assert r.effect == pytest.approx(0.2)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_newcombe_paired_interval_matches_newcombe_1998():
    # Newcombe (1998), Stat Med 17:2635-2650, Table II example with cells
    # 36 / 12 / 2 / 0 (both, first only, second only, neither): method 10 gives
    # 0.0569 to 0.3404 for a difference of 0.2.
    diff, low, high = newcombe_paired_interval(PairedCounts(36, 12, 2, 0))
    assert diff == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.0569, 0.3404), abs=5e-5)


def test_mcnemar_matches_r_exact2x2():
    # Hodgkin's disease / tonsillectomy matched pairs (26, 15, 7, 37); R
    # exact2x2::mcnemar.exact output (published R tutorial): b = 15, c = 7,
    # p-value = 0.1338, odds ratio 2.142857, 95% CI 0.8224084 6.2125863.
    a, b = pairs(both=26, only_b=15, only_a=7, neither=37)
    r = mcnemar_exact(a, b)
    assert r.p_value == pytest.approx(0.1338, abs=5e-5)
    oratio = r.other_effects[0]
    assert oratio.value == pytest.approx(2.142857, rel=5e-7)
    assert (oratio.ci_low, oratio.ci_high) == pytest.approx((0.8224084, 6.2125863), rel=5e-7)
    # mcnemar.exact(matrix(c(6, 8, 1, 5), nrow = 2)): b = 1, c = 8, p-value = 0.03906.
    a, b = pairs(both=6, only_b=1, only_a=8, neither=5)
    assert mcnemar_exact(a, b).p_value == pytest.approx(0.03906, abs=5e-6)


# --- rank tests ----------------------------------------------------------------


def test_mann_whitney_matches_r_wilcox_test_example():
    # R ?wilcox.test, Hollander & Wolfe permeability data: wilcox.test(x, y,
    # alternative = "g") -> W = 35, p-value = 0.1272 (exact). x is the treatment.
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    r = mann_whitney(y, x, alternative="greater")
    assert r.statistic == 35
    assert r.p_value == pytest.approx(0.1272, abs=5e-5)
    assert r.method == "exact"


def test_mann_whitney_with_ties_matches_r_sleep():
    # R: wilcox.test(extra ~ group, data = sleep) -> W = 25.5, p-value = 0.06933
    # (ties: normal approximation with continuity correction). W is U of group 1.
    r = mann_whitney(SLEEP_2, SLEEP_1)
    assert r.statistic == 25.5
    assert r.p_value == pytest.approx(0.06933, abs=5e-6)


def test_rank_biserial_matches_kerby_example():
    # Kerby (2014) / Wikipedia "Mann-Whitney U test": hares beat tortoises in 90 of
    # 100 pairs, so r = f - u = 0.90 - 0.10 = 0.80. Data built to have exactly that.
    tortoises = [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]
    hares = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    assert rank_biserial(tortoises, hares) == pytest.approx(0.80)
    assert mann_whitney(tortoises, hares).effect == pytest.approx(0.80)


def test_wilcoxon_matches_r_wilcox_test_example():
    # R ?wilcox.test, Hollander & Wolfe depression scores: wilcox.test(x, y,
    # paired = TRUE, alternative = "greater") -> V = 40, p-value = 0.01953 (d = x - y).
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    r = wilcoxon_signed_rank(y, x, alternative="greater")
    assert r.statistic == 40
    assert r.p_value == pytest.approx(0.01953, abs=5e-6)


def test_wilcoxon_with_zero_and_ties_matches_r_sleep():
    # R: wilcox.test(g1, g2, paired = TRUE) on sleep -> V = 0, p-value = 0.009091
    # (zero dropped, ties: normal approximation with continuity correction).
    r = wilcoxon_signed_rank(SLEEP_2, SLEEP_1)
    assert r.statistic == 0
    assert r.p_value == pytest.approx(0.009091, abs=5e-7)


def test_wilcoxon_rank_biserial_matches_pingouin_documentation():
    # pingouin.wilcoxon docs example (continuity-corrected, zero present):
    # W-val 20.5, p-val 0.285765, RBC -0.378788 with d = x - y.
    x = [20, 22, 19, 20, 22, 18, 24, 20, 19, 24, 26, 13]
    y = [38, 37, 33, 29, 14, 12, 20, 22, 17, 25, 26, 16]
    r = wilcoxon_signed_rank(y, x)
    assert r.p_value == pytest.approx(0.285765, abs=5e-7)
    assert r.effect == pytest.approx(-0.378788, abs=5e-7)


# --- effect sizes ----------------------------------------------------------------
# Lakens (2013), Front. Psychol. 4:863, movie ratings; movie 1 - movie 2.
MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]


def test_hedges_g_matches_lakens_2013():
    # Lakens (2013): independent groups, Cohen's d_s = 1.13, Hedges' g_s = 1.08.
    assert hedges_g(MOVIE_2, MOVIE_1) == pytest.approx(1.08, abs=5e-3)
    assert hedges_g(MOVIE_1, MOVIE_2) == pytest.approx(-1.08, abs=5e-3)


def test_cohens_dz_matches_lakens_2013():
    # Lakens (2013): within subjects, t(9) = 4.74, Cohen's d_z = 1.50.
    assert cohens_dz(MOVIE_2, MOVIE_1) == pytest.approx(1.50, abs=5e-3)
    assert paired_t(MOVIE_2, MOVIE_1).statistic == pytest.approx(4.74, abs=5e-3)


def test_hedges_g_from_summary_matches_lecture_example():
    # H. Zhang, "Effect sizes: means" lecture notes: means 103 and 100, SDs 5.5 and
    # 4.5, n = 50 each -> Cohen's d = 0.5970, Hedges' g = 0.5924.
    g = hedges_g_from_summary(100, 4.5, 50, 103, 5.5, 50)
    assert g == pytest.approx(0.5924, abs=5e-5)


def test_paired_hedges_g_is_dz_with_small_sample_correction():
    # Not a published value: g_z is defined here as d_z * (1 - 3 / (4 (n - 1) - 1)).
    expected = cohens_dz(MOVIE_2, MOVIE_1) * (1 - 3 / (4 * 9 - 1))
    assert hedges_g(MOVIE_2, MOVIE_1, paired=True) == pytest.approx(expected)


# --- multiple comparisons --------------------------------------------------------


def test_holm_matches_pingouin_documentation():
    # pingouin.holm docs: [.50, .003, .32, .054, .0003] -> [0.64, 0.012, 0.64, 0.162, 0.0015].
    adjusted = adjust_pvalues([0.50, 0.003, 0.32, 0.054, 0.0003], "holm")
    assert adjusted == pytest.approx([0.64, 0.012, 0.64, 0.162, 0.0015], abs=1e-12)


def test_bh_matches_scipy_documentation():
    # scipy.stats.false_discovery_control docs, Benjamini & Hochberg (1995) example.
    ps = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
          0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip
    expected = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714, 0.06385714, 0.0645,
                0.0765, 0.486, 0.58118182, 0.714875, 0.75323077, 0.81321429, 1.0]  # fmt: skip
    assert adjust_pvalues(ps, "bh") == pytest.approx(expected, abs=5e-9)
    # Same docs, unsorted input: [0.5, 0.6, 0.1, 0.001] -> [0.6, 0.6, 0.2, 0.004].
    assert adjust_pvalues([0.5, 0.6, 0.1, 0.001], "bh") == pytest.approx([0.6, 0.6, 0.2, 0.004])


def test_sign_test_matches_r_binom_test_and_conover_interval():
    # R: binom.test(9, 10) -> p-value = 0.02148 (9 of 10 paired differences positive);
    # one-sided binom.test(9, 10, alternative = "greater") -> 0.01074.
    # Median interval by order statistics (Conover 1999, Practical Nonparametric
    # Statistics, sec. 3.4): for n = 10 at 95% it is [d(2), d(9)].
    a = [0.0] * 10
    b = [-1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    r = sign_test(a, b)
    assert r.p_value == pytest.approx(0.02148, abs=5e-6) and r.statistic == 9
    assert (r.ci_low, r.ci_high) == (1.0, 8.0)
    assert sign_test(a, b, alternative="greater").p_value == pytest.approx(0.01074, abs=5e-6)


def test_conditional_odds_ratio_matches_r_fisher_test_at_large_n():
    # scipy.stats.contingency.odds_ratio([[3100, 3000], [6900, 7000]]) (the conditional
    # MLE and exact interval of R's fisher.test) -> 1.0483067, CI (0.9865922, 1.1138905);
    # ours evaluates the same distribution vectorised. 3100 of 10,000 vs 3000 of 10,000.
    r = odds_ratio([1] * 3000 + [0] * 7000, [1] * 3100 + [0] * 6900)
    assert r.value == pytest.approx(1.048307, abs=5e-7)
    assert (r.ci_low, r.ci_high) == pytest.approx((0.9865922, 1.1138905), abs=5e-7)
