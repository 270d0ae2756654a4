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
        self.app.push_screen(FiguresScreen(line.title, self.figures(line)))

    def figures(self, line: ComparisonLine) -> list[tuple[str, str]]:
        """Every figure of a row, labelled in words (the dialog behind enter)."""
        return comparison_figures(line.comparison, self.SIDES)


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

    # While a run goes: the anytime-valid rows (watch/live_stats.py), never a fixed-n verdict.
    LIVE_ESSENTIAL = (("metric", "metric"), ("treatment", "treatment"),
                      ("difference", "difference · anytime CI"), ("anytime", "anytime"))
    LIVE_OPTIONAL = (("n", "n"), ("p", "anytime p"), ("method", "method"), ("assumes", "assumes"))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.updated_at = 0.0
        self.live = False  # showing the anytime-valid rows of a run still going

    def _columns(self, live: bool) -> None:
        self.live = live
        self.ESSENTIAL = self.LIVE_ESSENTIAL if live else type(self).ESSENTIAL
        self.OPTIONAL = self.LIVE_OPTIONAL if live else type(self).OPTIONAL
        self.labels = dict(self.ESSENTIAL + self.OPTIONAL)

    def show(self, table: Any, note: str = "", anytime: list[Any] | None = None) -> None:
        """Show a ComparisonTable (rows of metric, treatment, comparison): the fixed-n tests,
        with ``anytime`` (AnytimeRows, or their dicts) beside them when given."""
        from ...stats.cells import row_cells

        self._columns(live=False)
        pair = getattr(table, "pair", None)  # two chosen conditions: rows read "b − a"
        self.SIDES = pair or type(self).SIDES
        if pair is not None:  # every row is B − A, as the pane's title says: the column may go
            self.ESSENTIAL = tuple(c for c in self.ESSENTIAL if c[0] != "treatment")
            self.OPTIONAL = (("treatment", "difference of"), *self.OPTIONAL)
            self.labels = {**dict(self.ESSENTIAL + self.OPTIONAL),
                           "baseline": f"{pair[0]} mean (sd)", "treatment_mean": f"{pair[1]} mean (sd)"}
        if anytime is not None:
            # The final table: the fixed-n tests, labelled, and the anytime result beside them.
            self.ESSENTIAL = (*type(self).ESSENTIAL, ("anytime", "anytime"))
            self.labels = {**dict(self.ESSENTIAL + self.OPTIONAL), "verdict": "fixed-n verdict"}
        found = {(_get(r, "treatment"), _get(r, "metric")): r for r in anytime or []}
        lines = []
        for row in table:
            cells: dict[str, Any] = dict(row_cells(row.comparison))
            cells["treatment_mean"] = cells.pop("treatment")
            cells["verdict"] = verdict_text(cells["verdict"])
            # "b − a" also when a is the baseline (row.label then reads "b vs baseline")
            label = f"{row.treatment} − {row.reference}" if pair is not None else row.treatment
            cells["metric"], cells["treatment"] = row.metric, label
            other = found.get((row.treatment, row.metric))
            cells["anytime"] = anytime_text(_label(other) if other is not None else "undecided")
            title = f"{row.metric}: {label}" if pair is not None else f"{row.metric}: {row.treatment} vs baseline"
            lines.append(ComparisonLine(cells, row.comparison, title))
        self.set_lines(lines, note)
        self.updated_at = time.monotonic()

    def show_anytime(self, rows: list[Any], note: str = "", rounds: int = 0) -> None:
        """Show the anytime-valid rows (watch.live_stats.AnytimeRow) of a run still going;
        ``rounds``: replicates done in every condition (pairs not in a row were dropped)."""
        from ...stats.cells import format_number

        self._columns(live=True)
        lines = []
        for row in rows:
            cells = {
                "metric": row.metric, "treatment": row.treatment,
                # The interval's level: the one its row's decision was made at (Holm's step).
                "difference": (f"{format_number(row.estimate, 3)} [{format_number(row.lower, 3)}, "
                               f"{format_number(row.upper, 3)}] α {row.level:.2g}"),
                # Why a row cannot decide yet (burn-in, skewness) beside its decision.
                "anytime": anytime_text(row.label + (f" · {row.note}" if row.note else "")),
                "n": f"{row.n} pairs" + (f" (−{rounds - row.n})" if rounds > row.n else ""),
                "p": format_number(row.p_value, 3), "method": row.method,
                "assumes": row.assumes,
            }
            lines.append(ComparisonLine(cells, row, f"{row.metric}: {row.treatment} vs baseline (live)"))
        self.set_lines(lines, note)
        self.updated_at = time.monotonic()

    def figures(self, line: ComparisonLine) -> list[tuple[str, str]]:
        row = line.comparison
        if not self.live:
            return super().figures(line)
        return [("anytime", row.label), ("difference", line.cells["difference"]),
                ("interval level", f"alpha {row.level:.3g} ({row.correction} across the rows)"),
                ("paired replicates", str(row.n)), ("anytime-valid p", line.cells["p"]),
                ("method", row.method), ("assumes", row.assumes)] + (
                    [("note", row.note)] if row.note else [])


def _get(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else getattr(row, key)


def _label(row: Any) -> str:
    return row["anytime"] if isinstance(row, dict) else row.label


def anytime_text(label: str) -> Text:
    return Text(label, style="bold" if label.startswith("decided") else "")


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
