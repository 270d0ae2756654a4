"""Comparison tables for the terminal (rich), used by the CLI and by ComparisonTable's printing."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from ..stats.cells import (
    MISSING,
    SHORT_TESTS,
    adjusted_cell,
    adjusted_header,
    counts_cell,
    difference_cell,
    effects_cell,
    footnotes,
    format_p,
    mean_sd,
)
from ..stats.comparison import Comparison
from .palette import condition_colours


def _verdict(c: Comparison) -> Text:
    style = "bold green" if c.verdict == "significant" else ("yellow" if c.inconclusive else "")
    return Text(c.verdict, style=style)



def render_table(
    comparisons: Sequence[Comparison],
    labels: Sequence[str | tuple[str, ...]] | None = None,
    title: str | None = None,
    label_headers: Sequence[str] = ("comparison",),
    family: str | None = None,
    sides: tuple[str, str] = ("baseline", "treatment"),
) -> Table:
    """One row per comparison; notes are listed under the table, keyed by label.

    ``labels`` name the rows: strings, or tuples shown as several columns headed by
    ``label_headers`` (e.g. ("metric", "treatment")). Means show as "mean (sd)"; the
    difference column is treatment − baseline with its CI in brackets; "n" shows the
    values used and, in parentheses, how many were dropped as missing. Test and effect
    names are abbreviated (the legend is in the caption). ``sides`` names the two
    compared conditions (reference, other) when they are not baseline and treatment.
    """
    if labels is not None and len(labels) != len(comparisons):
        raise ValueError(f"got {len(labels)} labels for {len(comparisons)} comparisons")
    names = list(labels) if labels is not None else [str(i + 1) for i in range(len(comparisons))]
    rows = [n if isinstance(n, tuple) else (n,) for n in names]
    headers = list(label_headers) if rows and len(rows[0]) == len(label_headers) else [
        "comparison"
    ] * (len(rows[0]) if rows else 1)
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for header in headers:
        table.add_column(header)
    for header, justify in (
        ("test", "left"),
        ("n", "right"),
        (sides[0], "right"),
        (sides[1], "right"),
        ("difference [CI]", "right"),
        ("effect", "right"),
        ("p", "right"),
        (adjusted_header(comparisons), "right"),
        ("verdict", "left"),
    ):
        # Numbers never wrap mid-value; names and intervals may wrap onto a second line.
        keep = header in ("n", "p") or header.startswith("p adj")
        table.add_column(header, justify=justify, no_wrap=keep)  # type: ignore[arg-type]
    notes = []
    colours = _treatment_colours(rows, headers)
    for row, c in zip(rows, comparisons, strict=True):
        table.add_row(
            *(Text(cell, style=colours[cell]) if cell in colours and header == "treatment"
              else cell for cell, header in zip(row, headers, strict=False)),
            SHORT_TESTS.get(c.test or "", c.test or MISSING),
            counts_cell(c),
            mean_sd(c.mean_baseline, c.sd_baseline),
            mean_sd(c.mean_treatment, c.sd_treatment),
            difference_cell(c),
            effects_cell(c),
            format_p(c.p_value, c.alpha),
            adjusted_cell(c),
            _verdict(c),
        )
        if c.note:
            notes.append(f"{' / '.join(row)}: {c.note}")
    legend = (f"{sides[0]}/{sides[1]}: mean (sd); difference: {sides[1]} − {sides[0]}; "
              "g: Hedges' g; OR: odds ratio; r: rank-biserial")
    table.caption = "\n".join([legend, *footnotes(comparisons, family, sides=sides), *notes])
    table.caption_justify = "left"
    return table


def _treatment_colours(rows: list[tuple[str, ...]], headers: list[str]) -> dict[str, str]:
    """Each treatment named in the "treatment" column in its chart colour (render/palette.py):
    the rows list treatments in declaration order, so the baseline is 0 and they follow."""
    if "treatment" not in headers:
        return {}
    column = headers.index("treatment")
    order = list(dict.fromkeys(row[column] for row in rows if len(row) > column))
    return condition_colours(["baseline", *order])


def to_text(renderable: Any, width: int) -> str:
    """``renderable`` (a table or plain lines) as plain text laid out for ``width`` columns."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, legacy_windows=False)
    console.print(renderable, markup=False, highlight=False)
    return buffer.getvalue()
