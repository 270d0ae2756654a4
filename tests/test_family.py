"""Holm, Bonferroni and e-BH across the anytime-valid rows (stats/family.py, watch/live_stats.py)."""

import numpy as np
import pytest

from crystallize_tui.stats.family import (
    ebh,
    ebh_batch,
    grid_p_batch,
    holm,
    holm_batch,
    holm_levels,
)
from crystallize_tui.stats.sequential import anytime_p_values, asymptotic_log_e, asymptotic_sequence
from crystallize_tui.watch.live_stats import AnytimeStatistics

ALPHA = 0.05


def two_treatments(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    return base, base + 1.0 + rng.normal(size=n), base + 0.5 + rng.normal(size=n)


def streamed(correction: str, base, a, b) -> list[dict[str, object]]:
    """The rows after every round, fed as a run feeds them."""
    stats = AnytimeStatistics(["baseline", "a", "b"], correction=correction)
    looks = []
    for k in range(len(base)):
        for name, values in (("baseline", base), ("a", a), ("b", b)):
            stats.add(name, k, {"x": float(values[k])})
        looks.append({r.treatment: r for r in stats.rows()})
    return looks


def test_holm_decides_a_row_bonferroni_cannot_and_shows_the_interval_it_decided_at():
    base, a, b = two_treatments(17, 80)
    holm_rows, bonf_rows = streamed("holm", base, a, b)[-1], streamed("bonferroni", base, a, b)[-1]
    assert holm_rows["a"].label == bonf_rows["a"].label == "decided: higher"
    # b's interval at alpha/2 still holds 0, at alpha (Holm's second step) it does not.
    assert bonf_rows["b"].label == "undecided" and bonf_rows["b"].lower < 0 < bonf_rows["b"].upper
    assert bonf_rows["b"].level == pytest.approx(ALPHA / 2)
    assert holm_rows["b"].label == "decided: higher" and holm_rows["b"].lower > 0
    assert holm_rows["b"].level == pytest.approx(ALPHA)
    assert holm_rows["a"].level == pytest.approx(ALPHA / 2)
    assert holm_rows["b"].as_dict()["correction"] == "holm"


def test_streaming_rows_decide_as_the_batch_functions_do_at_every_look():
    for seed in (1, 12):
        base, a, b = two_treatments(seed, 60)
        d = np.stack([a - base, b - base])
        log_e = asymptotic_log_e(d, alpha=ALPHA / 2)  # each row's bets are tuned for alpha / m
        batch = holm_batch(grid_p_batch(anytime_p_values(log_e), holm_levels(2, ALPHA)), ALPHA)
        e = np.exp(log_e)
        batch_ebh = ebh_batch(e, ALPHA)
        for correction, expected in (("holm", batch), ("e-bh", batch_ebh)):
            looks = streamed(correction, base, a, b)
            got = np.array([[look[t].decision != "undecided" for look in looks] for t in "ab"])
            assert (got == expected).all(), (seed, correction)
        assert batch.any() and batch_ebh.any()  # the check compared decisions, not only "undecided"


def test_step_down_and_ebh_levels_match_their_decisions():
    chosen = holm([0.01, 0.04, 0.03, 0.5], ALPHA)
    # 0.01 <= .05/4, 0.03 > .05/3: one rejection; the others wait at the next step's level.
    assert chosen.rejected == [True, False, False, False]
    assert chosen.levels == pytest.approx([ALPHA / 4, ALPHA / 3, ALPHA / 3, ALPHA / 3])
    assert holm([0.01, 0.02, 0.04], ALPHA).rejected == [True, True, True]
    got = ebh([100.0, 30.0, 1.0], ALPHA)  # 100 >= 3/0.05 = 60; 30 >= 3/(2 * 0.05) = 30
    assert got.rejected == [True, True, False]
    assert got.levels == pytest.approx([ALPHA * 2 / 3, ALPHA * 2 / 3, ALPHA])


def test_the_family_error_of_monitored_holm_stays_bounded():
    """Cheap version of bench/sequential.py's family check: 400 seeded runs, 3 treatments
    (one true effect, two nulls), decided after every replicate up to 200."""
    runs, looks = 400, 200
    rng = np.random.default_rng(5)
    base = rng.normal(size=(runs, looks))
    d = np.stack([rng.normal(e, 1.0, (runs, looks)) - base for e in (0.3, 0.0, 0.0)])
    p = anytime_p_values(asymptotic_log_e(d, alpha=ALPHA / 3))
    rejected = holm_batch(grid_p_batch(p, holm_levels(3, ALPHA)), ALPHA)
    family_error = rejected[1:].any(axis=(0, 2)).mean()
    assert family_error <= ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / runs)
    naive = [(lo > 0) | (hi < 0) for lo, hi in (asymptotic_sequence(row, ALPHA) for row in d[1:])]
    assert np.stack(naive).any(axis=(0, 2)).mean() > family_error  # uncorrected: more errors
    assert rejected[0, :, -1].mean() > 0.3  # and the true effect is found
