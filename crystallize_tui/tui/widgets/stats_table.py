"""Tables of comparisons that fit the terminal: the columns that answer the question first, the rest as room allows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable

PADDING = 2  # a DataTable cell has one column of padding each side
SCROLLBAR = 2  # room kept for the vertical scrollbar, so a long table does not hide a column


@dataclass
class ComparisonLine:
    """One row: its cells by column key, the comparison behind them, and the dialog's title."""

    cells: dict[str, Any]
    comparison: Any
    title: str


class FittedComparisonTable(DataTable):
    """Comparisons one per row. The ESSENTIAL columns always show; then each OPTIONAL one,
    in order, that still fits the width. Enter on a row: every figure of it."""

    ESSENTIAL: ClassVar[tuple[tuple[str, str], ...]] = ()
    OPTIONAL: ClassVar[tuple[tuple[str, str], ...]] = ()
    SIDES: ClassVar[tuple[str, str]] = ("baseline", "treatment")  # names in the dialog

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.lines: list[ComparisonLine] = []
        self.visible_columns: tuple[str, ...] = ()
        self.labels = dict(self.ESSENTIAL + self.OPTIONAL)
        self.note = ""

    @property
    def hidden_columns(self) -> list[str]:
        return [key for key, _ in self.OPTIONAL if key not in self.visible_columns]

    def on_mount(self) -> None:
        self._lay_out(force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()

    def clear(self, columns: bool = False) -> FittedComparisonTable:
        if not columns:  # a cleared table (run again) forgets its rows, keeps its columns
            self.lines = []
            self.note = ""
            self._hint()
        return super().clear(columns)

    def set_lines(self, lines: list[ComparisonLine], note: str = "") -> None:
        """Show ``lines``; ``note`` says what the figures rest on (under the pane, with the
        hint for enter)."""
        self.note = note
        self.lines = lines
        self._lay_out(force=True)

    def _width_of(self, key: str) -> int:
        cells = [cell_len(str(line.cells[key])) for line in self.lines]
        return max([cell_len(self.labels[key]), *cells]) + PADDING

    def _choose_columns(self) -> tuple[str, ...]:
        room = self.size.width - SCROLLBAR
        chosen = [key for key, _ in self.ESSENTIAL]
        used = sum(self._width_of(key) for key in chosen)
        for key, _ in self.OPTIONAL:  # in order of use; a wide one that does not fit is skipped
            width = self._width_of(key)
            if used + width <= room:
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
        for line in self.lines:
            self.add_row(*(line.cells[key] for key in columns))
        if self.lines:
            self.move_cursor(row=min(row, len(self.lines) - 1))
        self._hint()

    def _hint(self) -> None:
        # Shown on the pane around the table (or the table's own border when it has one).
        hidden = len(self.hidden_columns)
        more = f"enter: every figure (+{hidden} columns)" if hidden else "enter: every figure"
        text = " · ".join(p for p in (self.note, more if self.lines else "") if p)
        target = self.parent if isinstance(self.parent, Widget) and self.parent.has_class("pane") else self
        target.border_subtitle = text

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self or not self.lines:
            return
        from ..screens.figures import FiguresScreen

        line = self.lines[event.cursor_row]
        self.app.push_screen(FiguresScreen(line.title, comparison_figures(line.comparison, self.SIDES)))


def verdict_text(verdict: str) -> Text:
    style = "bold green" if verdict == "significant" else (
        "yellow" if verdict.startswith("inconclusive") else "")
    return Text(verdict, style=style)


class StatsTable(FittedComparisonTable):
    """Treatment vs baseline per metric: metric, treatment, difference [CI], adjusted p and
    verdict always; test, n, effect, p and the means as the width allows."""

    ESSENTIAL = (("metric", "metric"), ("treatment", "treatment"),
                 ("difference", "difference [CI]"), ("p_adjusted", "p adj"), ("verdict", "verdict"))
    OPTIONAL = (("test", "test"), ("n", "n"), ("effect", "effect"), ("p", "p"),
                ("baseline", "baseline mean (sd)"), ("treatment_mean", "treatment mean (sd)"))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.updated_at = 0.0

    def show(self, table: Any, note: str = "") -> None:
        """Show a ComparisonTable (rows of metric, treatment, comparison)."""
        from ...stats.cells import row_cells

        lines = []
        for row in table:
            cells: dict[str, Any] = dict(row_cells(row.comparison))
            cells["treatment_mean"] = cells.pop("treatment")
            cells["verdict"] = verdict_text(cells["verdict"])
            cells["metric"], cells["treatment"] = row.metric, row.treatment
            lines.append(ComparisonLine(cells, row.comparison, f"{row.metric}: {row.treatment} vs baseline"))
        self.set_lines(lines, note)
        self.updated_at = time.monotonic()


class RunsComparisonTable(FittedComparisonTable):
    """Run B against run A per condition and metric (history's compare screen)."""

    ESSENTIAL = (("condition", "condition"), ("metric", "metric"),
                 ("difference", "difference [CI]"), ("p", "p"), ("verdict", "verdict"))
    OPTIONAL = (("test", "test"), ("n", "n"), ("baseline", "run A"), ("treatment", "run B"))
    SIDES = ("run A", "run B")

    def show_runs(self, comparisons: list[tuple[str, str, Any]]) -> None:
        """Show (condition, metric, comparison of B against A) rows."""
        from ...stats.cells import row_cells

        lines = []
        for condition, metric, comparison in comparisons:
            cells: dict[str, Any] = dict(row_cells(comparison))
            cells["verdict"] = verdict_text(cells["verdict"])
            cells["condition"], cells["metric"] = condition, metric
            lines.append(ComparisonLine(cells, comparison, f"{metric} in {condition}: run B vs run A"))
        self.set_lines(lines)


def comparison_figures(c: Any, sides: tuple[str, str] = ("baseline", "treatment")) -> list[tuple[str, str]]:
    """Every figure of one comparison, labelled in words (the dialog behind enter)."""
    from ...stats.cells import format_number, format_p, row_cells

    cells = row_cells(c)
    level = f"{c.confidence:.0%}"
    first, second = sides
    figures = [
        ("test", f"{c.test or 'none'} ({'paired by replicate' if c.paired else 'unpaired'}, "
                 f"{c.alternative})"),
        ("values used", cells["n"] + ("" if c.paired else f" ({first}/{second})")),
        (f"{first} mean (sd)", cells["baseline"]),
        (f"{second} mean (sd)", cells["treatment"]),
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
        ("p", format_p(c.p_value, c.alpha)),
        (f"p adjusted ({c.correction})", format_p(c.p_adjusted, c.alpha)),
        ("alpha", f"{c.alpha:g}"),
        ("verdict", c.verdict),
    ]
    if c.method:
        figures.append(("method", c.method))
    if c.note:
        figures.append(("note", c.note))
    return figures
