"""The Comparison record (one treatment vs baseline on one metric) and its verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .corrections import adjust_pvalues
from .results import Effect


def verdict_for(p: float | None, alpha: float, reason: str | None = None) -> str:
    """Verdict text: significant / not significant at ``alpha``, or inconclusive (reason)."""
    if reason:
        return f"inconclusive ({reason})"
    if p is None:
        return "inconclusive (no test)"
    return "significant" if p <= alpha else "not significant"


@dataclass(frozen=True)
class Comparison:
    """Everything a user needs to judge one treatment-vs-baseline difference.

    ``difference`` is treatment minus baseline (for 0/1 data: the difference of
    proportions); ``ci_low``/``ci_high`` bound it (method in ``ci_method``).
    Counts report what was used: for paired data ``n_pairs`` complete pairs,
    after ``n_pairs_dropped`` pairs with a missing side were dropped.
    ``p_adjusted`` equals ``p_value`` until :func:`adjust_comparisons` (or
    :meth:`with_p_adjusted`) applies a multiple-comparison correction; the
    verdict always follows ``p_adjusted``.
    """

    test: str | None
    paired: bool
    alternative: str
    alpha: float
    confidence: float
    n_baseline: int
    n_treatment: int
    n_pairs: int | None
    n_missing_baseline: int
    n_missing_treatment: int
    n_pairs_dropped: int
    mean_baseline: float | None
    sd_baseline: float | None
    mean_treatment: float | None
    sd_treatment: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str | None
    effect_name: str | None
    effect: float | None
    other_effects: tuple[Effect, ...]
    statistic: float | None
    df: float | None
    p_value: float | None
    p_adjusted: float | None
    correction: str
    verdict: str
    note: str | None
    method: str | None = None
    bootstrap_ci_low: float | None = None
    bootstrap_ci_high: float | None = None

    @property
    def inconclusive(self) -> bool:
        return self.verdict.startswith("inconclusive")

    def with_p_adjusted(self, p_adjusted: float | None, correction: str) -> Comparison:
        """Copy with an adjusted p-value and the verdict recomputed from it."""
        if self.p_value is None:  # nothing was tested: keep the inconclusive verdict
            return replace(self, correction=correction)
        return replace(
            self,
            p_adjusted=p_adjusted,
            correction=correction,
            verdict=verdict_for(p_adjusted, self.alpha),
        )


def adjust_comparisons(comparisons: Sequence[Comparison], method: str = "holm") -> list[Comparison]:
    """Adjust the p-values of a family of comparisons together (see adjust_pvalues).

    Inconclusive comparisons (no p-value) are carried along unchanged and do not
    enlarge the family.
    """
    adjusted = adjust_pvalues([c.p_value for c in comparisons], method)
    return [c.with_p_adjusted(p, method) for c, p in zip(comparisons, adjusted, strict=True)]
