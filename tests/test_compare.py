"""result.compare() and hypotheses: published values through a real run, corrections, verdicts."""

import pytest

from crystallize_tui import Experiment, Hypothesis, Store, Treatment
from crystallize_tui.core.hypothesis import TEST_CHOICES as ENGINE_TEST_CHOICES
from crystallize_tui.stats import TEST_CHOICES, adjust_pvalues

# R's sleep data (Cushny & Peebles): extra hours of sleep under two drugs, same 10 patients.
G1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
G2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def record_from_table(config, ctx):
    """Each replicate records the value its condition's table holds at its index."""
    value = config["values"][ctx.replicate]
    if value is None:
        raise RuntimeError("this patient dropped out")
    ctx.metrics.add("extra", value)


def sleep_experiment(g2=G2, **kw):
    return Experiment(name="sleep", datasource={"values": G1}, pipeline=[record_from_table],
                      replicates=10, treatments=[Treatment("drug2", {"values": g2})], **kw)


def test_paired_t_through_a_run_matches_r():
    # R: t.test(extra ~ group, data = sleep, paired = TRUE): t = -4.0621, df = 9, p = 0.002833
    # (R subtracts group 2 from group 1; here treatment - baseline = g2 - g1, so t flips sign)
    row = sleep_experiment().run().compare()["drug2", "extra"]
    assert row.test == "paired t-test"
    assert row.statistic == pytest.approx(4.0621, abs=1e-4)
    assert row.df == 9
    assert row.p_value == pytest.approx(0.002833, abs=1e-6)
    assert row.difference == pytest.approx(1.58)
    assert row.n_pairs == 10


def test_welch_on_request_matches_r():
    # R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p = 0.07939,
    # 95 percent CI of g1 - g2: [-3.3654832, 0.2054832]
    row = sleep_experiment().run().compare(paired=False)["drug2", "extra"]
    assert row.test == "Welch's t-test"
    assert row.statistic == pytest.approx(1.8608, abs=1e-4)
    assert row.df == pytest.approx(17.776, abs=1e-3)
    assert row.p_value == pytest.approx(0.07939, abs=1e-5)
    assert (row.ci_low, row.ci_high) == (pytest.approx(-0.2055, abs=1e-4), pytest.approx(3.3655, abs=1e-4))


def test_fisher_exact_on_binary_metrics_matches_the_published_p():
    # 8 of 10 vs 1 of 6 successes: Fisher's exact p = 0.034965 (two-sided)
    base = [1] * 8 + [0] * 2
    treat = [1] * 1 + [0] * 5 + [None] * 4  # four replicates failed: unpaired, dropped
    exp = Experiment(name="fisher", datasource={"values": base}, pipeline=[record_from_table],
                     replicates=10, treatments=[Treatment("drug2", {"values": treat})])
    row = exp.run().compare(paired=False)["drug2", "extra"]
    assert row.test == "Fisher's exact test"
    assert row.p_value == pytest.approx(0.034965, abs=1e-6)
    assert (row.n_baseline, row.n_treatment, row.n_missing_treatment) == (10, 6, 4)


def test_failed_replicates_are_dropped_pairwise_and_counted():
    g2 = list(G2)
    g2[3] = None
    result = sleep_experiment(g2=g2).run()
    assert len(result.errors) == 1
    row = result.compare()["drug2", "extra"]
    assert row.n_pairs == 9 and row.n_pairs_dropped == 1


def test_holm_across_treatments_is_what_the_verdict_uses():
    shifts = {"small": 0.3, "medium": 1.0, "large": 3.0}
    exp = Experiment(
        name="shifts", datasource={"values": G1}, pipeline=[record_from_table], replicates=10,
        treatments=[Treatment(n, {"values": [x + s + 0.1 * (i % 3) for i, x in enumerate(G1)]})
                    for n, s in shifts.items()],
    )
    table = exp.run().compare(correction="holm")
    raw = [row.p_value for row in table]
    assert [row.p_adjusted for row in table] == pytest.approx(adjust_pvalues(raw, "holm"))
    assert all(row.p_adjusted >= row.p_value for row in table)
    bh = exp.run().compare(correction="bh")
    assert [row.p_adjusted for row in bh] == pytest.approx(adjust_pvalues(raw, "bh"))
    none = exp.run().compare(correction="none")
    assert [row.p_adjusted for row in none] == pytest.approx(raw)


def test_rank_test_per_metric_on_request():
    row = sleep_experiment().run().compare(tests={"extra": "rank"})["drug2", "extra"]
    # R: wilcox.test(g2, g1, paired = TRUE, exact = FALSE) on sleep: p = 0.009091
    assert row.test.startswith("Wilcoxon signed-rank")
    assert row.p_value == pytest.approx(0.009091, abs=1e-5)


def test_table_renders_with_every_number_a_reader_needs():
    text = str(sleep_experiment().run().compare())
    for needle in ("extra", "drug2", "paired t", "10 pairs", "0.0028", "1.58 [0.7, 2.46]",
                   "0.75 (1.79)", "g 0.797", "significant", "holm"):
        assert needle in text, needle
    assert "nan" not in text.lower()


def test_hypotheses_get_verdicts_with_their_numbers(tmp_path):
    exp = sleep_experiment(
        hypotheses=[
            Hypothesis("extra", "greater"),
            {"metric": "extra", "direction": "less"},
            Hypothesis("missing_metric", "two-sided"),
        ],
        store=tmp_path / "s.db",
    )
    result = exp.run()
    verdicts = [(h.hypothesis.metric, h.hypothesis.direction, h.verdict) for h in result.hypotheses]
    assert verdicts == [
        ("extra", "greater", "supported"),
        ("extra", "less", "not supported"),
        ("missing_metric", "two-sided", "inconclusive (no data)"),
    ]
    supported = result.hypotheses[0]
    assert supported.comparison.p_value == pytest.approx(0.002833 / 2, abs=1e-6)  # one-sided
    assert "supported (paired t-test" in str(supported)
    # a stored run gives the same verdicts
    loaded = Store(tmp_path / "s.db").load(result.run_id)
    assert [h.verdict for h in loaded.hypotheses] == [h.verdict for h in result.hypotheses]


def test_constant_paired_difference_is_decided_by_the_sign_test():
    # Every replicate gains exactly +1: no spread for a t statistic, but the signs decide.
    # One-sided exact sign test: p = 0.5^n, so 4 pairs cannot reach 0.05 and 6 can.
    def flat(n):
        return Experiment(name="flat", datasource={"values": [1.0] * n},
                          pipeline=[record_from_table], replicates=n,
                          treatments=[Treatment("up", {"values": [2.0] * n})],
                          hypotheses=[Hypothesis("extra", "greater")])
    few = flat(4).run()
    (h,) = few.hypotheses
    assert h.verdict == "not supported" and h.comparison.test == "exact sign test"
    assert h.comparison.p_value == 0.5**4
    assert "cannot be significant" in h.comparison.note
    text = str(few.compare())
    assert "nan" not in text.lower() and "sign test" in text
    (h,) = flat(6).run().hypotheses
    assert h.verdict == "supported" and h.comparison.p_value == 0.5**6


def test_engine_pairing_table_matches_the_tests():
    from crystallize_tui.core.compare import PAIRED_TESTS, UNPAIRED_TESTS
    from crystallize_tui.stats.compare import TESTS

    assert {t for t, (_, paired) in TESTS.items() if paired} == set(PAIRED_TESTS)
    assert {t for t, (_, paired) in TESTS.items() if not paired} == set(UNPAIRED_TESTS)


def test_engine_and_stats_agree_on_test_names():
    assert ENGINE_TEST_CHOICES == TEST_CHOICES


def record_unless_treated(config, ctx):
    ctx.metrics.add("always", ctx.rng.random())
    if not config.get("treated"):
        ctx.metrics.add("sometimes", ctx.rng.random())


def test_metric_missing_in_a_treatment_names_that_side():
    exp = Experiment(name="gap", datasource={"treated": False}, pipeline=[record_unless_treated],
                     replicates=4, treatments=[Treatment("new", {"treated": True})])
    row = exp.run().compare()["new", "sometimes"]
    assert row.verdict == "inconclusive (no data)"
    assert "no values in the treatment" in row.note and "either side" not in row.note
