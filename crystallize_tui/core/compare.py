"""Treatment-vs-baseline (or any two conditions) comparisons and hypothesis verdicts over a Result.

scipy does the tests (``crystallize_tui.stats``); this module chooses what to compare,
pairs replicates by index, applies the correction over the chosen family, and renders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .hypothesis import Hypothesis, is_custom_test, load_test, name_of_test
from .treatment import BASELINE

if TYPE_CHECKING:
    from ..stats import Comparison
    from .result import Result

CORRECTIONS = ("holm", "bh", "none")
# What one correction covers: each metric's comparisons, or every row of the table.
FAMILIES = ("metric", "table")
# Tests that fix the pairing themselves (the others follow ``paired``).
UNPAIRED_TESTS = ("welch", "fisher", "boschloo", "mann_whitney")
PAIRED_TESTS = ("paired_t", "mcnemar", "wilcoxon")


def compare_with(baseline: Sequence[Any], treatment: Sequence[Any], test: Any = "auto",
                 **options: Any) -> Comparison:
    """compare_samples for a built-in test; the user's own test function (or its
    "module:qualname") through stats.custom, its failures kept in the row."""
    from ..stats import compare_samples

    if not is_custom_test(test):
        return compare_samples(baseline, treatment, test=test, **options)
    from ..stats.custom import custom_comparison, unavailable

    kept = {k: options[k] for k in ("alternative", "alpha", "confidence") if k in options}
    try:
        fn = load_test(test)
    except Exception as exc:  # noqa: BLE001 - a stored run whose test module is gone
        return unavailable(name_of_test(test), str(exc), **kept)
    return custom_comparison(fn, name_of_test(test), baseline, treatment, **kept)


def pairing_for(test: str, paired: bool | None) -> bool | None:
    """What to pass compare_samples: a run's replicate k shares its seed across conditions
    (common random numbers), so replicates pair by index unless the test or the caller
    says otherwise."""
    if paired is not None or test in UNPAIRED_TESTS or test in PAIRED_TESTS:
        return paired
    return True
# compare_result adjusts each metric's treatments together by default (see its docstring).
FAMILY = "within each metric, across its treatments"
WIDE = 165  # columns the table needs; narrower terminals get one block per comparison


@dataclass(frozen=True)
class ComparisonRow:
    """One treatment vs the baseline (or condition ``treatment`` vs ``reference``) on one metric;
    the difference is treatment minus reference."""

    treatment: str
    metric: str
    comparison: Comparison
    reference: str = BASELINE

    @property
    def label(self) -> str:
        """"fast vs baseline", or "slow − fast" for a pair (which minus which)."""
        if self.reference == BASELINE:
            return f"{self.treatment} vs baseline"
        return f"{self.treatment} − {self.reference}"

    def __getattr__(self, name: str) -> Any:
        # row.p_value, row.verdict, ... read straight from the comparison
        return getattr(self.comparison, name)


class ComparisonTable:
    """``result.compare()``: iterable rows; ``str()`` renders a table (crystallize_tui.render)."""

    def __init__(self, rows: list[ComparisonRow], title: str, correction: str,
                 family: str = FAMILY, pair: tuple[str, str] | None = None) -> None:
        self.rows = rows
        self.title = title
        self.correction = correction
        self.family = family  # what one correction covered, as the footnote says it
        self.pair = pair  # (reference, other) when two chosen conditions were compared

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

        if self.pair is None:
            return render_table(
                [r.comparison for r in self.rows],
                labels=[(r.metric, r.treatment) for r in self.rows],
                title=self.title,
                label_headers=("metric", "treatment"),
                family=self.family,
            )
        return render_table(
            [r.comparison for r in self.rows],
            labels=[(r.metric, r.label) for r in self.rows],
            title=self.title,
            label_headers=("metric", "difference of"),
            family=self.family,
            sides=self.pair,
        )

    def footnotes(self, compact: bool = False) -> list[str]:
        """Lines to show under the table: pairing, one-sided tests, the correction's family."""
        from ..stats.cells import footnotes

        sides = self.pair or ("baseline", "treatment")
        return footnotes([row.comparison for row in self.rows], self.family, compact, sides=sides)

    def renderable(self, width: int) -> Any:
        """The table when ``width`` fits it, else one block of lines per comparison."""
        if width >= WIDE:
            return self
        from ..stats.cells import describe_comparison

        blocks = [self.title, ""]
        for row in self.rows:
            blocks.append(describe_comparison(row.comparison, f"{row.metric}: {row.label}",
                                              sides=self.pair or ("baseline", "treatment")))
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
            if self.pair is not None:  # which minus which; the default table's records stay as they were
                record = {"reference": row.reference, **record}
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
    pair: Sequence[str] | None = None,
    family: str = "metric",
    tests: Mapping[str, str] | None = None,
    test: str = "auto",
    paired: bool | None = None,
    alternative: str = "two-sided",
    confidence: float = 0.95,
    bootstrap: bool = False,
) -> ComparisonTable:
    """Compare each treatment with the baseline on each metric, or two chosen conditions.

    ``pair=(a, b)`` compares condition ``b`` with condition ``a`` (any two, e.g. treatment
    vs treatment): differences are b minus a, ``alternative="greater"`` asks whether b is
    larger, and replicates pair by index exactly as against the baseline.
    The correction (Holm by default, "bh" for Benjamini-Hochberg, "none") runs over the
    treatments of each metric (``family="metric"``: one family per question "does any
    treatment move this metric?"), or over every row of the table at once
    (``family="table"``: one family for all metrics and comparisons). ``tests`` overrides
    the test per metric ({"rounds": "rank"}).
    """
    from ..stats import adjust_comparisons

    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    chosen_pair = check_pair(result, pair) if pair is not None else None
    names = list(metrics) if metrics is not None else metric_names(result)
    partial = ""
    if not result.complete:  # cancelled or stopped: pair only what ran on both sides
        result = result.ran_in_every_condition()
        partial = f"; {result.status}: over the {result.replicates} replicate(s) that ran in every condition"
    reference = chosen_pair[0] if chosen_pair else BASELINE
    others = [chosen_pair[1]] if chosen_pair else [c for c in result.conditions if c != BASELINE]
    missing = [None] * result.replicates
    if tests is None and test == "auto":  # a metric whose hypothesis names your own test uses it
        tests = {h.metric: h.test_spec for h in getattr(result, "declared_hypotheses", ()) if h.custom}
    raw: list[tuple[str, str, Comparison]] = []
    for metric in names:
        base = result.metrics[reference].metrics.get(metric, missing)
        for other in others:
            values = result.metrics[other].metrics.get(metric, missing)
            chosen = (tests or {}).get(metric, test)
            raw.append((other, metric, compare_with(
                base, values, paired=pairing_for(chosen, paired), test=chosen,
                alternative=alternative, alpha=alpha, confidence=confidence,
                bootstrap=bootstrap, seed=result.seed,
            )))
    if family == "table":
        groups = [list(range(len(raw)))]
    else:
        groups = [[i for i, (_, m, _) in enumerate(raw) if m == metric] for metric in names]
    adjusted: list[Comparison | None] = [None] * len(raw)
    for group in groups:
        for i, comparison in zip(group, adjust_comparisons([raw[i][2] for i in group], correction),
                                 strict=True):
            adjusted[i] = comparison
    rows = [ComparisonRow(other, metric, c, reference)  # type: ignore[arg-type]
            for (other, metric, _), c in zip(raw, adjusted, strict=True)]
    described, footnote = _family_text(correction, family, len(others), len(names), len(rows),
                                       chosen_pair is not None)
    if chosen_pair:
        a, b = chosen_pair
        what = f"{b} − {a}"
        sides = "" if alternative == "two-sided" else f", one-sided: {b} {alternative} than {a}"
    else:
        what = "treatments vs baseline"
        sides = "" if alternative == "two-sided" else f", one-sided: treatment {alternative} than baseline"
    title = f"{result.experiment}: {what} ({described}, alpha {alpha}{sides}{partial})"
    return ComparisonTable(rows, title, correction, footnote, chosen_pair)


def check_pair(result: Result, pair: Sequence[str]) -> tuple[str, str]:
    """The two conditions of ``pair``, refused with a one-line message naming a bad one."""
    from .errors import ConfigError

    if isinstance(pair, str) or len(pair) != 2:
        raise ConfigError(f"compare: a pair is two condition names, got {pair!r}")
    a, b = pair
    for name in (a, b):
        if name not in result.conditions:
            raise ConfigError(f"compare: no condition named {name!r} in run {result.run_id} "
                              f"(conditions: {', '.join(result.conditions)})")
    if a == b:
        raise ConfigError(f"compare: a pair needs two different conditions, got {a!r} twice")
    return a, b


def _family_text(correction: str, family: str, per_metric: int, metrics: int,
                 rows: int, pair: bool) -> tuple[str, str]:
    """What the correction covered: for the title, and for the footnote under the table."""
    if correction == "none":
        return "no correction", FAMILY
    if family == "table":
        where = f"across all {rows} rows of the table, {metrics} metric(s) x {per_metric} comparison(s)"
        if rows == 1:
            return "one row: nothing to correct, p adj = p", where
        return f"{correction} correction {where}", where
    if per_metric == 1 and not pair:  # a family of one: the correction leaves p as it is
        return "one treatment: nothing to correct, p adj = p", FAMILY
    if per_metric == 1:
        what = "one comparison per metric" if metrics > 1 else "one comparison"
        return (f"{what}: nothing to correct, p adj = p",
                "within each metric (one comparison each, so p adj = p; family=table corrects "
                "across the metrics)")
    return (f"{correction} correction within each metric, across its {per_metric} treatments",
            FAMILY)


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
    if not hypotheses:  # nothing to test: no scipy import (half a second) at a run's end
        return []
    from ..stats import adjust_comparisons

    out: list[HypothesisResult] = []
    if not result.complete:  # as in compare_result: only replicates that ran everywhere
        result = result.ran_in_every_condition()
    all_treatments = [c for c in result.conditions if c != BASELINE]
    for h in hypotheses:
        treatments = [t for t in all_treatments if not h.treatments or t in h.treatments]
        base = result.metrics.baseline.metrics.get(h.metric, [None] * result.replicates)
        family = [
            compare_with(base, result.metrics[t].metrics.get(h.metric, [None] * result.replicates),
                         test=h.test_spec, paired=pairing_for(h.test, None),
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
