"""Comparison records as plain text: cells, one-line descriptions and the footnotes under a table.

No terminal library here: the rich tables (crystallize_tui.render) and the TUI both build on it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .comparison import Comparison

MISSING = "—"


def format_number(x: float | None, digits: int = 4) -> str:
    """Compact number for a table cell: None as a dash, infinities as ∞, never "nan"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def format_p(p: float | None, alpha: float | None = None) -> str:
    """The one p-value format: 4 decimals, "<0.0001" below that, and more decimals when
    rounding would put p on the other side of (or onto) ``alpha``: 0.049996 beside
    "significant" reads 0.049996, not 0.0500."""
    if p is None:
        return MISSING
    if p < 1e-4:
        return "<0.0001"
    for digits in range(4, 10):
        text = f"{p:.{digits}f}"
        shown = float(text)
        if alpha is None or ((shown <= alpha) == (p <= alpha) and (shown == alpha) == (p == alpha)):
            return text
    return f"{p:.10g}"


SHORT_TESTS = {
    "Welch's t-test": "Welch t",
    "paired t-test": "paired t",
    "Fisher's exact test": "Fisher exact",
    "Boschloo's exact test": "Boschloo",
    "exact McNemar test": "McNemar exact",
    "Mann-Whitney U test": "Mann-Whitney",
    "Wilcoxon signed-rank test": "Wilcoxon",
    "exact sign test": "sign test",
}
SHORT_EFFECTS = {
    "Hedges' g": "g",
    "risk difference": "RD",
    "odds ratio": "OR",
    "odds ratio (paired)": "OR",
    "rank-biserial r": "r",
    "matched-pairs rank-biserial r": "r",
}


def mean_sd(m: float | None, s: float | None) -> str:
    return MISSING if m is None else f"{format_number(m, 3)} ({format_number(s, 3)})"


def difference_cell(c: Comparison) -> str:
    text = format_number(c.difference, 3)
    if c.ci_low is not None or c.ci_high is not None:
        text += f" [{format_number(c.ci_low, 3)}, {format_number(c.ci_high, 3)}]"
    if c.bootstrap_ci_low is not None or c.bootstrap_ci_high is not None:
        text += (
            f"\nboot [{format_number(c.bootstrap_ci_low, 3)}, "
            f"{format_number(c.bootstrap_ci_high, 3)}]"
        )
    return text


def effects_cell(c: Comparison) -> str:
    # For 0/1 data the primary effect (risk difference) is the difference column
    # already, so the odds ratio is the informative one to show here.
    shown = [(c.effect_name, c.effect, None, None)] if c.effect_name else []
    odds = [e for e in c.other_effects if e.name.startswith("odds ratio")]
    if odds and c.effect_name == "risk difference":
        shown = [(e.name, e.value, e.ci_low, e.ci_high) for e in odds]
    parts = []
    for name, value, lo, hi in shown:
        ci = f" [{format_number(lo, 3)}, {format_number(hi, 3)}]" if lo is not None or hi is not None else ""
        parts.append(f"{SHORT_EFFECTS.get(name or '', name)} {format_number(value, 3)}{ci}")
    return "\n".join(parts) or MISSING


def counts_cell(c: Comparison) -> str:
    if c.paired:
        text = f"{c.n_pairs or 0} pairs"
        return text + (f" (−{c.n_pairs_dropped})" if c.n_pairs_dropped else "")
    text = f"{c.n_baseline}/{c.n_treatment}"
    missing = c.n_missing_baseline + c.n_missing_treatment
    return text + (f" (−{missing})" if missing else "")


def adjusted_cell(c: Comparison) -> str:
    # The correction is named once, in the header, rather than in every cell.
    return format_p(c.p_adjusted, c.alpha)


def adjusted_header(comparisons: Sequence[Comparison]) -> str:
    methods = {c.correction for c in comparisons if c.correction != "none"}
    return f"p adj ({', '.join(sorted(methods))})" if methods else "p adj"


SIDES = {"greater": "{b} greater than {a}", "less": "{b} less than {a}"}
SIDES_ASKED = {"greater": "{b} is greater than {a}", "less": "{b} is less than {a}"}
DEFAULT_SIDES = ("baseline", "treatment")


def footnotes(
    comparisons: Sequence[Comparison], family: str | None = None, compact: bool = False,
    sides: tuple[str, str] = DEFAULT_SIDES,
) -> list[str]:
    """Short lines a reader needs under any table of these comparisons: what pairing
    means, one-sided tests, what the correction covers (``family``, e.g. "within each
    metric, across its treatments", or "across all 6 rows of the table"). Shared by the
    CLI and the TUI (``compact``: one short line each, for a narrow pane). ``sides``
    names the two conditions (reference, other) when they are not baseline and treatment."""
    a, b = sides
    lines = []
    if any(c.paired for c in comparisons):
        lines.append(
            "paired by seed (common random numbers); independent users (a real A/B test) "
            "need an unpaired test" if compact else
            "paired: replicate k shares its seed across conditions (common random numbers), "
            "so rows compare replicate by replicate; for independent units (users in a real "
            "A/B test) use an unpaired test: compare(paired=False) in Python, or a hypothesis "
            "with test: fisher (0/1) or welch in experiment.yaml."
        )
    one_sided = sorted({c.alternative for c in comparisons if c.alternative != "two-sided"})
    if one_sided:
        asked = " / ".join(SIDES[s].format(a=a, b=b) for s in one_sided)
        the = "the " if (a, b) == DEFAULT_SIDES else ""
        lines.append(
            f"one-sided: {asked}; intervals are bounds" if compact else
            f"one-sided: the tests ask whether {the}"
            f"{' / '.join(SIDES_ASKED[s].format(a=a, b=b) for s in one_sided)}; "
            "the intervals are one-sided bounds "
            "(∞ on the open side)."
        )
    corrections = sorted({c.correction for c in comparisons if c.correction != "none"})
    if corrections:
        where = f" {family}" if family else ""
        lines.append(
            f"p adj: {', '.join(corrections)}{where}; intervals not adjusted" if compact else
            f"p adj: {', '.join(corrections)} correction{where}; the verdict uses p adj; "
            "intervals are per comparison (not adjusted)."
        )
    return lines


def describe_comparison(c: Comparison, label: str, sides: tuple[str, str] = DEFAULT_SIDES) -> str:
    """The same numbers as a table row, as a few short lines for narrow terminals
    (``sides``: the names of the reference and the other condition)."""
    head = f"{label} — {SHORT_TESTS.get(c.test or '', c.test or 'no test')}, {counts_cell(c)}"
    lines = [
        head,
        f"  {sides[0]} {mean_sd(c.mean_baseline, c.sd_baseline)}   "
        f"{sides[1]} {mean_sd(c.mean_treatment, c.sd_treatment)}",
        f"  difference {difference_cell(c)}   {effects_cell(c)}".replace("\n", "   "),
        f"  p {format_p(c.p_value, c.alpha)}   p adj ({c.correction}) "
        f"{format_p(c.p_adjusted, c.alpha)}   {c.verdict}",
    ]
    if c.note:
        lines.append(f"  note: {c.note}")
    return "\n".join(lines) + "\n"


def row_cells(c: Comparison) -> dict[str, str]:
    """The table's cells for one comparison, keyed by column, for other front ends (the TUI)."""
    return {
        "test": SHORT_TESTS.get(c.test or "", c.test or MISSING),
        "n": counts_cell(c),
        "baseline": mean_sd(c.mean_baseline, c.sd_baseline),
        "treatment": mean_sd(c.mean_treatment, c.sd_treatment),
        "difference": difference_cell(c).replace("\n", " "),
        "effect": effects_cell(c).replace("\n", " "),
        "p": format_p(c.p_value, c.alpha),
        "p_adjusted": format_p(c.p_adjusted, c.alpha),
        "verdict": c.verdict,
    }
