"""Rich rendering of Comparison records; computing lives elsewhere in the package."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from .comparison import Comparison

MISSING = "—"


def format_number(x: float | None, digits: int = 4) -> str:
    """Compact number for a table cell: None as a dash, infinities as ∞, never "nan"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def format_p(p: float | None) -> str:
    if p is None:
        return MISSING
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _mean_sd(m: float | None, s: float | None) -> str:
    return MISSING if m is None else f"{format_number(m)} ± {format_number(s)}"


def _difference(c: Comparison) -> str:
    text = format_number(c.difference)
    if c.ci_low is not None or c.ci_high is not None:
        text += f" [{format_number(c.ci_low)}, {format_number(c.ci_high)}]"
    if c.bootstrap_ci_low is not None or c.bootstrap_ci_high is not None:
        text += (
            f"\nboot [{format_number(c.bootstrap_ci_low)}, {format_number(c.bootstrap_ci_high)}]"
        )
    return text


def _effects(c: Comparison) -> str:
    parts = []
    if c.effect_name is not None:
        parts.append(f"{c.effect_name} {format_number(c.effect, 3)}")
    for e in c.other_effects:
        ci = ""
        if e.ci_low is not None or e.ci_high is not None:
            ci = f" [{format_number(e.ci_low, 3)}, {format_number(e.ci_high, 3)}]"
        parts.append(f"{e.name} {format_number(e.value, 3)}{ci}")
    return "\n".join(parts) or MISSING


def _counts(c: Comparison) -> str:
    if c.paired:
        text = f"{c.n_pairs or 0} pairs"
        return text + (f" (−{c.n_pairs_dropped})" if c.n_pairs_dropped else "")
    text = f"{c.n_baseline} / {c.n_treatment}"
    missing = c.n_missing_baseline + c.n_missing_treatment
    return text + (f" (−{missing})" if missing else "")


def _adjusted(c: Comparison) -> str:
    # The correction is named once, in the header, rather than in every cell.
    return format_p(c.p_adjusted)


def _adjusted_header(comparisons: Sequence[Comparison]) -> str:
    methods = {c.correction for c in comparisons if c.correction != "none"}
    return f"p adj ({', '.join(sorted(methods))})" if methods else "p adj"


def _verdict(c: Comparison) -> Text:
    style = "bold green" if c.verdict == "significant" else ("yellow" if c.inconclusive else "")
    return Text(c.verdict, style=style)


def render_table(
    comparisons: Sequence[Comparison],
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Table:
    """One row per comparison; notes are listed under the table, keyed by label.

    The difference column is treatment − baseline with its CI in brackets; "n"
    shows the values used and, in parentheses, how many were dropped as missing.
    """
    if labels is not None and len(labels) != len(comparisons):
        raise ValueError(f"got {len(labels)} labels for {len(comparisons)} comparisons")
    names = list(labels) if labels is not None else [str(i + 1) for i in range(len(comparisons))]
    table = Table(title=title, show_lines=False)
    for header, justify in (
        ("comparison", "left"),
        ("test", "left"),
        ("n", "right"),
        ("baseline", "right"),
        ("treatment", "right"),
        ("difference [CI]", "right"),
        ("effect", "right"),
        ("p", "right"),
        (_adjusted_header(comparisons), "right"),
        ("verdict", "left"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    notes = []
    for name, c in zip(names, comparisons, strict=True):
        table.add_row(
            name,
            c.test or MISSING,
            _counts(c),
            _mean_sd(c.mean_baseline, c.sd_baseline),
            _mean_sd(c.mean_treatment, c.sd_treatment),
            _difference(c),
            _effects(c),
            format_p(c.p_value),
            _adjusted(c),
            _verdict(c),
        )
        if c.note:
            notes.append(f"{name}: {c.note}")
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    return table
