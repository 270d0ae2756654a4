"""Values with a huge common offset (1e15 + noise) are compared as cleanly as the noise."""

from __future__ import annotations

import pytest
from scipy import stats

from crystallize_tui import Experiment, Treatment


def _step(config, ctx):
    ctx.metrics.add("value", 1e15 + config["shift"] + ctx.rng.gauss(0.0, 1.0))


def test_unpaired_comparison_at_1e15_has_no_precision_warning_and_the_noise_p() -> None:
    experiment = Experiment(
        name="offset", datasource={"shift": 0.0}, pipeline=[_step], replicates=20, seed=4, store=None
    )
    experiment.treatments = [Treatment("up", {"shift": 1.0})]
    result = experiment.run()
    row = result.compare(paired=False)["up", "value"]
    note = row.comparison.note or ""
    assert "precision" not in note.lower() and "unreliable" not in note.lower()
    # The same test on the offset removed: 1e15 is a multiple of the values' spacing
    # (0.125 there), so subtracting it is exact and this is the answer to match.
    base = [v - 1e15 for v in result.metrics.baseline.metrics["value"]]
    treat = [v - 1e15 for v in result.metrics.treatments["up"].metrics["value"]]
    expected = stats.ttest_ind(treat, base, equal_var=False).pvalue
    assert row.p_value == pytest.approx(expected, rel=1e-9)
    assert row.p_value < 0.05
