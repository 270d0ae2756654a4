"""The run screen's statistics table: the columns that answer the question first, the rest as room allows."""

from __future__ import annotations

import time
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable

# What a reader needs to judge a comparison; shown at any width (enter shows the rest).
ESSENTIAL = (("metric", "metric"), ("treatment", "treatment"),
             ("difference", "difference [CI]"), ("p_adjusted", "p adj"), ("verdict", "verdict"))
# Added left to right while they fit the table's width.
OPTIONAL = (("test", "test"), ("n", "n"), ("effect", "effect"), ("p", "p"),
            ("baseline", "baseline mean (sd)"), ("treatment_mean", "treatment mean (sd)"))
PADDING = 2  # a DataTable cell has one column of padding each side
SCROLLBAR = 2  # room kept for the vertical scrollbar, so a long table does not hide a column


class StatsTable(DataTable):
    """Treatment vs baseline per metric. The five essential columns always show; test, n,
    effect, p and the means follow as the width allows. Enter on a row: every figure."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.updated_at = 0.0
        self.rows_shown: list[tuple[str, str, Any, dict[str, Any]]] = []  # metric, treatment, comparison, cells
        self.visible_columns: tuple[str, ...] = ()
        self.labels = dict(ESSENTIAL + OPTIONAL)
        self.note = ""

    @property
    def hidden_columns(self) -> list[str]:
        return [key for key, _ in OPTIONAL if key not in self.visible_columns]

    def on_mount(self) -> None:
        self._lay_out(force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()

    def clear(self, columns: bool = False) -> StatsTable:
        if not columns:  # a cleared table (run again) forgets its rows, keeps its columns
            self.rows_shown = []
            self.note = ""
            self._hint()
        return super().clear(columns)

    def show(self, table: Any, note: str = "") -> None:
        """Show a ComparisonTable (rows of metric, treatment, comparison); ``note`` says
        what the figures rest on (shown under the pane with the hint for enter)."""
        from ...stats.render import row_cells

        self.note = note
        self.rows_shown = []
        for row in table:
            cells: dict[str, Any] = dict(row_cells(row.comparison))
            cells["treatment_mean"] = cells.pop("treatment")
            verdict = cells["verdict"]
            style = "bold green" if verdict == "significant" else (
                "yellow" if verdict.startswith("inconclusive") else "")
            cells["verdict"] = Text(verdict, style=style)
            cells["metric"], cells["treatment"] = row.metric, row.treatment
            self.rows_shown.append((row.metric, row.treatment, row.comparison, cells))
        self._lay_out(force=True)
        self.updated_at = time.monotonic()

    def _width_of(self, key: str) -> int:
        cells = [cell_len(str(cells[key])) for *_, cells in self.rows_shown]
        return max([cell_len(self.labels[key]), *cells]) + PADDING

    def _choose_columns(self) -> tuple[str, ...]:
        room = self.size.width - SCROLLBAR
        chosen = [key for key, _ in ESSENTIAL]
        used = sum(self._width_of(key) for key in chosen)
        for key, _ in OPTIONAL:  # in order: a later column never jumps ahead of an earlier one
            width = self._width_of(key)
            if used + width > room:
                break
            chosen.append(key)
            used += width
        return tuple(chosen)

    def _lay_out(self, force: bool = False) -> None:
        columns = self._choose_columns()
        if columns == self.visible_columns and not force:
            return
        row = self.cursor_row
        super().clear(columns=True)
        self.visible_columns = columns
        for key in columns:
            # Widths set here, not measured later by the table: under a busy run its
            # measuring (on idle) can lag, leaving new rows cut at the old widths.
            self.add_column(self.labels[key], key=key, width=self._width_of(key) - PADDING)
        for *_, cells in self.rows_shown:
            self.add_row(*(cells[key] for key in columns))
        if self.rows_shown:
            self.move_cursor(row=min(row, len(self.rows_shown) - 1))
        self._hint()

    def _hint(self) -> None:
        # Shown on the pane around the table (the run screen's "treatment vs baseline").
        hidden = len(self.hidden_columns)
        more = f"enter: every figure (+{hidden} columns)" if hidden else "enter: every figure"
        text = " · ".join(p for p in (self.note, more if self.rows_shown else "") if p)
        if isinstance(self.parent, Widget):
            self.parent.border_subtitle = text

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self or not self.rows_shown:
            return
        from ..screens.figures import FiguresScreen

        metric, treatment, comparison, _ = self.rows_shown[event.cursor_row]
        self.app.push_screen(FiguresScreen(f"{metric}: {treatment} vs baseline",
                                           comparison_figures(comparison)))


def comparison_figures(c: Any) -> list[tuple[str, str]]:
    """Every figure of one comparison, labelled in words (the dialog behind enter)."""
    from ...stats.render import format_number, format_p, row_cells

    cells = row_cells(c)
    level = f"{c.confidence:.0%}"
    figures = [
        ("test", f"{c.test or 'none'} ({'paired by replicate' if c.paired else 'unpaired'}, "
                 f"{c.alternative})"),
        ("values used", cells["n"] + ("" if c.paired else " (baseline/treatment)")),
        ("baseline mean (sd)", cells["baseline"]),
        ("treatment mean (sd)", cells["treatment"]),
        (f"difference [{level} CI]", cells["difference"]
         + (f" ({c.ci_method})" if c.ci_method else "")),
        ("effect", cells["effect"] + (f" ({c.effect_name})" if c.effect_name else "")),
    ]
    for effect in c.other_effects:
        ci = ("" if effect.ci_low is None and effect.ci_high is None
              else f" [{format_number(effect.ci_low, 3)}, {format_number(effect.ci_high, 3)}]")
        figures.append((effect.name, f"{format_number(effect.value, 4)}{ci}"))
    statistic = format_number(c.statistic, 4)
    if c.df is not None:
        statistic += f" (df {format_number(c.df, 4)})"
    figures += [
        ("statistic", statistic),
        ("p", format_p(c.p_value)),
        (f"p adjusted ({c.correction})", format_p(c.p_adjusted)),
        ("alpha", f"{c.alpha:g}"),
        ("verdict", c.verdict),
    ]
    if c.method:
        figures.append(("method", c.method))
    if c.note:
        figures.append(("note", c.note))
    return figures
