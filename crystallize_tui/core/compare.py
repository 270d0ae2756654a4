"""Treatment-vs-baseline comparisons and hypothesis verdicts over a Result's replicate lists.

scipy does the tests (``crystallize_tui.stats``); this module chooses what to compare,
pairs replicates by index, applies the correction across treatments, and renders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .hypothesis import Hypothesis
from .treatment import BASELINE

if TYPE_CHECKING:
    from ..stats import Comparison
    from .result import Result

CORRECTIONS = ("holm", "bh", "none")
# Tests that fix the pairing themselves (the others follow ``paired``).
UNPAIRED_TESTS = ("welch", "fisher", "boschloo", "mann_whitney")
PAIRED_TESTS = ("paired_t", "mcnemar", "wilcoxon")


def pairing_for(test: str, paired: bool | None) -> bool | None:
    """What to pass compare_samples: a run's replicate k shares its seed across conditions
    (common random numbers), so replicates pair by index unless the test or the caller
    says otherwise."""
    if paired is not None or test in UNPAIRED_TESTS or test in PAIRED_TESTS:
        return paired
    return True
# compare_result adjusts each metric's treatments together (see its docstring).
FAMILY = "within each metric, across its treatments"
WIDE = 165  # columns the table needs; narrower terminals get one block per comparison


@dataclass(frozen=True)
class ComparisonRow:
    """One treatment vs the baseline on one metric."""

    treatment: str
    metric: str
    comparison: Comparison

    def __getattr__(self, name: str) -> Any:
        # row.p_value, row.verdict, ... read straight from the comparison
        return getattr(self.comparison, name)


class ComparisonTable:
    """``result.compare()``: iterable rows; ``str()`` renders a table (crystallize_tui.render)."""

    def __init__(self, rows: list[ComparisonRow], title: str, correction: str) -> None:
        self.rows = rows
        self.title = title
        self.correction = correction

    def __iter__(self) -> Iterator[ComparisonRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: tuple[str, str]) -> ComparisonRow:
        """``table["dolphin", "win"]``: the row of that treatment and metric."""
        for row in self.rows:
            if (row.treatment, row.metric) == key:
                return row
        raise KeyError(key)

    def __rich__(self) -> Any:
        from ..render.tables import render_table

        return render_table(
            [r.comparison for r in self.rows],
            labels=[(r.metric, r.treatment) for r in self.rows],
            title=self.title,
            label_headers=("metric", "treatment"),
            family=FAMILY,
        )

    def footnotes(self, compact: bool = False) -> list[str]:
        """Lines to show under the table: pairing, one-sided tests, the correction's family."""
        from ..stats.cells import footnotes

        return footnotes([row.comparison for row in self.rows], FAMILY, compact)

    def renderable(self, width: int) -> Any:
        """The table when ``width`` fits it, else one block of lines per comparison."""
        if width >= WIDE:
            return self
        from ..stats.cells import describe_comparison

        blocks = [self.title, ""]
        for row in self.rows:
            blocks.append(describe_comparison(row.comparison, f"{row.metric}: {row.treatment} vs baseline"))
        blocks.extend(self.footnotes())
        return "\n".join(blocks)

    def render(self, width: int = 160) -> str:
        """The comparison as plain text, laid out for ``width`` columns."""
        from ..render.tables import to_text

        return to_text(self.renderable(width), width)

    def __str__(self) -> str:
        return self.render()

    def to_rows(self) -> list[dict[str, Any]]:
        """Plain records (for JSON): treatment, metric and every number of the comparison."""
        from dataclasses import asdict

        out = []
        for row in self.rows:
            record = {"treatment": row.treatment, "metric": row.metric, **asdict(row.comparison)}
            out.append(record)
        return out


def metric_names(result: Result) -> list[str]:
    """Every metric recorded in any condition, in first-recorded order."""
    names: dict[str, None] = {}
    for condition in result.conditions:
        for name in result.metrics[condition].metrics:
            names.setdefault(name)
    return list(names)


def compare_result(
    result: Result,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    *,
    tests: Mapping[str, str] | None = None,
    test: str = "auto",
    paired: bool | None = None,
    alternative: str = "two-sided",
    confidence: float = 0.95,
    bootstrap: bool = False,
) -> ComparisonTable:
    """Compare each treatment with the baseline on each metric.

    The correction (Holm by default, "bh" for Benjamini-Hochberg, "none") runs over the
    treatments of each metric: one family per question "does any treatment move this
    metric?". ``tests`` overrides the test per metric ({"rounds": "rank"}).
    """
    from ..stats import adjust_comparisons, compare_samples

    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    names = list(metrics) if metrics is not None else metric_names(result)
    partial = ""
    if not result.complete:  # cancelled or stopped: pair only what ran on both sides
        result = result.ran_in_every_condition()
        partial = f", {result.status} run: the {result.replicates} replicate(s) that ran in every condition"
    treatments = [c for c in result.conditions if c != BASELINE]
    rows: list[ComparisonRow] = []
    for metric in names:
        base = result.metrics.baseline.metrics.get(metric, [None] * result.replicates)
        family = []
        for treatment in treatments:
            values = result.metrics[treatment].metrics.get(metric, [None] * result.replicates)
            chosen = (tests or {}).get(metric, test)
            family.append(compare_samples(
                base, values, paired=pairing_for(chosen, paired), test=chosen,
                alternative=alternative, alpha=alpha, confidence=confidence,
                bootstrap=bootstrap, seed=result.seed,
            ))
        for treatment, comparison in zip(treatments, adjust_comparisons(family, correction), strict=True):
            rows.append(ComparisonRow(treatment, metric, comparison))
    if correction == "none":
        family = "no correction"
    elif len(treatments) == 1:  # a family of one: the correction leaves p as it is
        family = "one treatment: nothing to correct, p adj = p"
    else:
        family = f"{correction} correction within each metric, across its {len(treatments)} treatments"
    sides = "" if alternative == "two-sided" else f", one-sided: treatment {alternative} than baseline"
    title = f"{result.experiment}: treatments vs baseline ({family}, alpha {alpha}{sides}{partial})"
    return ComparisonTable(rows, title, correction)


@dataclass(frozen=True)
class HypothesisResult:
    """The verdict on one hypothesis for one treatment, with the numbers behind it."""

    hypothesis: Hypothesis
    treatment: str
    verdict: str  # "supported", "not supported" or "inconclusive (reason)"
    comparison: Comparison

    @property
    def inconclusive(self) -> bool:
        return self.verdict.startswith("inconclusive")

    def __str__(self) -> str:
        from ..stats.cells import format_p

        h, c = self.hypothesis, self.comparison
        how = c.test or "no test"
        if not c.paired and c.test:
            # The results table pairs replicates by seed; say why this p differs from it.
            how += ", unpaired: replicates as independent units"
        if h.direction != "two-sided" and c.test:
            # The table's p is two-sided; a directional hypothesis halves it (or more).
            how += ", one-sided"
        return (f"{h.metric} {h.phrase} in {self.treatment}: {self.verdict} "
                f"({how}, p adj {format_p(c.p_adjusted, h.alpha)})")


def as_hypothesis(value: Any) -> Hypothesis:
    if isinstance(value, Hypothesis):
        return value
    if isinstance(value, Mapping):
        return Hypothesis(**value)
    from .errors import ConfigError

    raise ConfigError(f"hypotheses: {value!r} is not a Hypothesis or a dict of its fields")


def evaluate_hypotheses(result: Result, hypotheses: Sequence[Hypothesis]) -> list[HypothesisResult]:
    """One verdict per (hypothesis, treatment); Holm across the treatments of a hypothesis."""
    from ..stats import adjust_comparisons, compare_samples

    out: list[HypothesisResult] = []
    if not result.complete:  # as in compare_result: only replicates that ran everywhere
        result = result.ran_in_every_condition()
    all_treatments = [c for c in result.conditions if c != BASELINE]
    for h in hypotheses:
        treatments = [t for t in all_treatments if not h.treatments or t in h.treatments]
        base = result.metrics.baseline.metrics.get(h.metric, [None] * result.replicates)
        family = [
            compare_samples(base, result.metrics[t].metrics.get(h.metric, [None] * result.replicates),
                            test=h.test, paired=pairing_for(h.test, None),
                            alternative=h.direction, alpha=h.alpha, seed=result.seed)
            for t in treatments
        ]
        for t, c in zip(treatments, adjust_comparisons(family, "holm"), strict=True):
            if c.inconclusive:
                verdict = c.verdict
            elif c.p_adjusted is not None and c.p_adjusted <= h.alpha:
                verdict = "supported"
            else:
                verdict = "not supported"
            out.append(HypothesisResult(h, t, verdict, c))
    return out
