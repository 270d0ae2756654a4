"""A stored run's result in a few words (the History table's verdict column): its hypotheses'
verdicts, else how many comparisons were significant, else its first metric's mean."""

from __future__ import annotations

from statistics import fmean
from typing import Any

RUNNING = "—"  # no verdict while a run goes: its fixed-n tests would not be valid yet


def headline(result: Any) -> str:
    """"supported: spread", "2 of 3 supported", "1 of 4 signif.", "score mean 0.52" or "—"
    (nothing finished yet). Loads scipy: call it off the UI thread."""
    if result.status == "running":
        return RUNNING
    if not result.complete:  # cancelled or interrupted: over the pairs that ran, as shown
        result = result.ran_in_every_condition()
    if not any(r.ok for r in result.replicate_results):
        return RUNNING
    verdicts = result.hypotheses
    if len(verdicts) == 1:
        word = verdicts[0].verdict.split(" (")[0]  # "inconclusive (n < 2)": the word only
        return f"{word}: {verdicts[0].hypothesis.metric}"
    if verdicts:
        held = sum(v.verdict == "supported" for v in verdicts)
        return f"{held} of {len(verdicts)} supported"
    if len(result.conditions) > 1:
        rows = list(result.compare())
        significant = sum(r.verdict == "significant" for r in rows)
        return f"{significant} of {len(rows)} signif." if rows else RUNNING
    values = result.metrics[result.conditions[0]].metrics
    if not values:
        return RUNNING
    metric, numbers = next(iter(values.items()))
    numbers = [v for v in numbers if isinstance(v, int | float)]
    return f"{metric} mean {fmean(numbers):.3g}" if numbers else RUNNING
