"""Tables of comparisons that fit the terminal: the columns that answer the question first, the rest as room allows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widget import Widget
from textual.widgets import DataTable

PADDING = 2  # a DataTable cell has one column of padding each side
SCROLLBAR = 2  # room kept for the vertical scrollbar, so a long table does not hide a column


NAME_MIN = 8  # a name column (metric, treatment) is cut to no fewer characters than this


@dataclass
class ComparisonLine:
    """One row: its cells by column key, the comparison behind them, the dialog's title, and
    shorter cells for a narrow terminal (``short``: column key -> cell; the rest as they are)."""

    cells: dict[str, Any]
    comparison: Any
    title: str
    short: dict[str, Any] = field(default_factory=dict)


class FittedComparisonTable(DataTable):
    """Comparisons one per row. The ESSENTIAL columns always show, without scrolling: in
    full when they fit, else with their short cells (ComparisonLine.short, SHORT_LABELS), one
    column at a time in SHORTEN's order, else
    with the name columns (NAMES) cut; then each OPTIONAL one, in order, that still fits.
    Columns show in ORDER (default: essential, then optional). Enter on a row: every figure."""

    ESSENTIAL: ClassVar[tuple[tuple[str, str], ...]] = ()
    OPTIONAL: ClassVar[tuple[tuple[str, str], ...]] = ()
    ORDER: ClassVar[tuple[str, ...]] = ()  # display order of the column keys; () = as chosen
    SHORT_LABELS: ClassVar[dict[str, str]] = {}  # column key -> header when cells are short
    SHORTEN: ClassVar[tuple[str, ...]] = ()  # columns that may show short cells, first first
    NAMES: ClassVar[tuple[str, ...]] = ()  # columns of names, cut (…) when nothing else fits
    SIDES: ClassVar[tuple[str, str]] = ("baseline", "treatment")  # names in the dialog

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.lines: list[ComparisonLine] = []
        self.visible_columns: tuple[str, ...] = ()
        self.labels = dict(self.ESSENTIAL + self.OPTIONAL)
        self.note = ""
        self.shortened: frozenset[str] = frozenset()  # columns showing short cells (narrow)
        self.name_width: int | None = None  # the name columns cut to this many characters

    @property
    def hidden_columns(self) -> list[str]:
        return [key for key, _ in self.OPTIONAL if key not in self.visible_columns]

    def on_mount(self) -> None:
        self._lay_out(force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out()
        self._hint()  # the note under the pane is cut to the new width

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

    def _label(self, key: str, short: bool) -> str:
        return self.SHORT_LABELS.get(key, self.labels[key]) if short else self.labels[key]

    def _cell(self, line: ComparisonLine, key: str, short: bool, cut: int | None) -> Any:
        value = line.short.get(key, line.cells[key]) if short else line.cells[key]
        if cut is not None and key in self.NAMES:
            value = _cut(value, cut)
        return value

    def _width_of(self, key: str, short: bool = False, cut: int | None = None) -> int:
        cells = [cell_len(str(self._cell(line, key, short, cut))) for line in self.lines]
        label = self._label(key, short)
        if cut is not None and key in self.NAMES:
            label = _cut(label, cut)
        return max([cell_len(label), *cells]) + PADDING

    def _choose_columns(self) -> tuple[tuple[str, ...], frozenset[str], int | None]:
        """The columns to show, those of them showing short cells, and the width the name
        columns are cut to (None: not cut)."""
        room = self.size.width - SCROLLBAR
        essential = [key for key, _ in self.ESSENTIAL]
        short: frozenset[str] = frozenset()
        cut = None
        used = sum(self._width_of(key) for key in essential)
        for key in self.SHORTEN:  # the short cells ("not sig.") before anything is cut
            if used <= room:
                break
            if key in essential:
                short |= {key}
                used = sum(self._width_of(k, k in short) for k in essential)
        if used > room and any(key in self.NAMES for key in essential):
            # Cut the names (enter shows them whole) down to what leaves room for the rest.
            names = [key for key in essential if key in self.NAMES]
            left = room - sum(self._width_of(key, key in short) for key in essential if key not in names)
            widths = sorted(self._width_of(key, key in short) for key in names)
            for i, width in enumerate(widths):  # a short name stays whole; longer ones share the rest
                share = left // (len(widths) - i)
                if width > share:
                    cut = max(NAME_MIN, share - PADDING)
                    break
                left -= width
            used = sum(self._width_of(key, key in short, cut) for key in essential)
        chosen = list(essential)
        for key, _ in self.OPTIONAL:  # in order of use; a wide one that does not fit is skipped
            width = self._width_of(key)
            if used + width <= room:
                chosen.append(key)
                used += width
        if self.ORDER:
            chosen.sort(key=lambda k: self.ORDER.index(k) if k in self.ORDER else len(self.ORDER))
        return tuple(chosen), short, cut

    def _lay_out(self, force: bool = False) -> None:
        columns, short, cut = self._choose_columns()
        if (columns, short, cut) == (self.visible_columns, self.shortened, self.name_width) and not force:
            return
        row = self.cursor_row
        super().clear(columns=True)
        self.visible_columns, self.shortened, self.name_width = columns, short, cut
        for key in columns:
            brief = key in short
            label = self._label(key, brief)
            if cut is not None and key in self.NAMES:
                label = _cut(label, cut)
            # Widths set here, not measured later by the table: under a busy run its
            # measuring (on idle) can lag, leaving new rows cut at the old widths.
            self.add_column(label, key=key, width=self._width_of(key, brief, cut) - PADDING)
        for line in self.lines:
            self.add_row(*(self._cell(line, key, key in short, cut) for key in columns))
        if self.lines:
            self.move_cursor(row=min(row, len(self.lines) - 1))
        self._hint()

    def _hint(self) -> None:
        # Shown on the pane around the table (or the table's own border when it has one).
        hidden = len(self.hidden_columns)
        more = f"enter: every figure (+{hidden} columns)" if hidden else "enter: every figure"
        target = self.parent if isinstance(self.parent, Widget) and self.parent.has_class("pane") else self
        note = self.note
        room = target.size.width - 6  # the border's corners and the spaces around a subtitle
        if self.lines and note and room > 0 and cell_len(f"{note} · {more}") > room:
            # A narrow pane: the note gives way (…), not the count of hidden columns.
            note = _cut_words(note, max(1, room - cell_len(more) - 3))
        target.border_subtitle = " · ".join(p for p in (note, more if self.lines else "") if p)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self or not self.lines:
            return
        from ..screens.figures import FiguresScreen

        line = self.lines[event.cursor_row]
        self.app.push_screen(FiguresScreen(line.title, self.figures(line)))

    def figures(self, line: ComparisonLine) -> list[tuple[str, str]]:
        """Every figure of a row, labelled in words (the dialog behind enter)."""
        return comparison_figures(line.comparison, self.SIDES)


def _cut(value: Any, width: int) -> Any:
    """``value`` (a str or Text) cut to ``width`` cells, ending in "…" when cut."""
    text = value if isinstance(value, Text) else Text(str(value))
    if cell_len(text.plain) <= width:
        return value
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    return text if isinstance(value, Text) else text.plain


def _cut_words(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells at a word's end, ending in "…"."""
    if cell_len(text) <= width:
        return text
    words = text[:width].rsplit(" ", 1)[0].rstrip(" ·;,:")
    return (words if words and cell_len(words) < width else text[:width - 1]) + "…"


# A verdict in a narrow table; the figures dialog (enter) gives it whole.
SHORT_VERDICTS = {"significant": "signif.", "not significant": "not sig."}


def verdict_text(verdict: str, short: bool = False) -> Text:
    style = "bold green" if verdict == "significant" else (
        "yellow" if verdict.startswith("inconclusive") else "")
    if short:
        verdict = SHORT_VERDICTS.get(verdict, verdict.split(" (")[0])  # "inconclusive (…)": the word
    return Text(verdict, style=style)


class StatsTable(FittedComparisonTable):
    """Treatment vs baseline per metric: metric, treatment, difference [CI] and verdict
    always (at 80 columns too); adjusted p, the anytime result, test, n, effect, p and the
    means as the width allows."""

    ESSENTIAL = (("metric", "metric"), ("treatment", "treatment"),
                 ("difference", "difference [CI]"), ("verdict", "verdict"))
    OPTIONAL = (("p_adjusted", "p adj"), ("test", "test"), ("n", "n"), ("effect", "effect"),
                ("p", "p"), ("baseline", "baseline mean (sd)"),
                ("treatment_mean", "treatment mean (sd)"))
    # As wide tables always read: p adj beside the verdict it decides, the anytime result next.
    ORDER = ("metric", "treatment", "difference", "p_adjusted", "verdict", "anytime", "test",
             "n", "effect", "p", "baseline", "treatment_mean", "method", "assumes")
    SHORT_LABELS = {"verdict": "verdict"}  # "fixed-n verdict" when the anytime column is there
    SHORTEN = ("verdict",)
    NAMES = ("metric", "treatment")

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

    def show(self, table: Any, note: str = "", anytime: list[Any] | None = None,
             marks: dict[tuple[str, str], str] | None = None) -> None:
        """Show a ComparisonTable (rows of metric, treatment, comparison): the fixed-n tests,
        with ``anytime`` (AnytimeRows, or their dicts) beside them when given, each cell with
        its footnote's mark from ``marks`` (watch/footnotes.py: what the number assumes)."""
        from ...stats.cells import row_cells

        self._columns(live=False)
        self.SHORT_LABELS, self.SHORTEN, self.ORDER = (type(self).SHORT_LABELS, type(self).SHORTEN,
                                                       type(self).ORDER)
        pair = getattr(table, "pair", None)  # two chosen conditions: rows read "b − a"
        self.SIDES = pair or type(self).SIDES
        if anytime is not None:
            # The final table: the fixed-n tests, labelled, and the anytime result beside them
            # (first of the columns that give way to a narrow terminal, after p adj).
            self.OPTIONAL = (self.OPTIONAL[0], ("anytime", "anytime"), *self.OPTIONAL[1:])
        if pair is not None:  # every row is B − A, as the pane's title says: the column may go
            self.ESSENTIAL = tuple(c for c in self.ESSENTIAL if c[0] != "treatment")
            self.OPTIONAL = (("treatment", "difference of"), *self.OPTIONAL)
            order = [key for key in type(self).ORDER if key != "treatment"]
            self.ORDER = tuple(order[:order.index("anytime") + 1] + ["treatment"]
                               + order[order.index("anytime") + 1:])
        self.labels = dict(self.ESSENTIAL + self.OPTIONAL)
        if pair is not None:
            self.labels |= {"baseline": f"{pair[0]} mean (sd)", "treatment_mean": f"{pair[1]} mean (sd)"}
        if anytime is not None:
            self.labels["verdict"] = "fixed-n verdict"
        found = {(_get(r, "treatment"), _get(r, "metric")): r for r in anytime or []}
        lines = []
        for row in table:
            cells: dict[str, Any] = dict(row_cells(row.comparison))
            cells["treatment_mean"] = cells.pop("treatment")
            verdict = cells["verdict"]
            cells["verdict"] = verdict_text(verdict)
            # "b − a" also when a is the baseline (row.label then reads "b vs baseline")
            label = f"{row.treatment} − {row.reference}" if pair is not None else row.treatment
            cells["metric"], cells["treatment"] = row.metric, label
            other = found.get((row.treatment, row.metric))
            mark = (marks or {}).get((row.treatment, row.metric))
            cells["anytime"] = anytime_text((_label(other) if other is not None else "undecided")
                                            + (f" {mark}" if mark else ""))
            title = f"{row.metric}: {label}" if pair is not None else f"{row.metric}: {row.treatment} vs baseline"
            lines.append(ComparisonLine(cells, row.comparison, title,
                                        short={"verdict": verdict_text(verdict, short=True)}))
        self.set_lines(lines, note)
        self.updated_at = time.monotonic()

    def show_anytime(self, rows: list[Any], note: str = "", rounds: int = 0) -> None:
        """Show the anytime-valid rows (watch.live_stats.AnytimeRow) of a run still going;
        ``rounds``: replicates done in every condition (pairs not in a row were dropped)."""
        from ...stats.cells import format_number

        self._columns(live=True)
        # The interval's α goes first, then the note beside a decision (enter shows both).
        self.SHORT_LABELS, self.SHORTEN = {"difference": "anytime CI"}, ("difference", "anytime")
        lines = []
        for row in rows:
            interval = (f"{format_number(row.estimate, 3)} [{format_number(row.lower, 3)}, "
                        f"{format_number(row.upper, 3)}]")
            cells = {
                "metric": row.metric, "treatment": row.treatment,
                # The interval's level: the one its row's decision was made at (Holm's step).
                "difference": f"{interval} α {row.level:.2g}",
                # Why a row cannot decide yet (burn-in, skewness) beside its decision.
                "anytime": anytime_text(row.label + (f" · {row.note}" if row.note else "")),
                "n": f"{row.n} pairs" + (f" (−{rounds - row.n})" if rounds > row.n else ""),
                "p": format_number(row.p_value, 3), "method": row.method,
                "assumes": row.assumes,
            }
            # Narrow: the interval without its level, the decision without why (enter: both).
            # ("…": there is a why, enter shows it.)
            short = {"difference": interval,
                     "anytime": anytime_text(row.label + (" …" if row.note else ""))}
            lines.append(ComparisonLine(cells, row, f"{row.metric}: {row.treatment} vs baseline (live)",
                                        short))
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
                 ("difference", "difference [CI]"), ("verdict", "verdict"))
    OPTIONAL = (("p", "p"), ("test", "test"), ("n", "n"), ("baseline", "run A"), ("treatment", "run B"))
    ORDER = ("condition", "metric", "difference", "p", "verdict", "test", "n", "baseline", "treatment")
    NAMES = ("condition", "metric")
    SHORTEN = ("verdict",)
    SIDES = ("run A", "run B")

    def show_runs(self, comparisons: list[tuple[str, str, Any]]) -> None:
        """Show (condition, metric, comparison of B against A) rows."""
        from ...stats.cells import row_cells

        lines = []
        for condition, metric, comparison in comparisons:
            cells: dict[str, Any] = dict(row_cells(comparison))
            verdict = cells["verdict"]
            cells["verdict"] = verdict_text(verdict)
            cells["condition"], cells["metric"] = condition, metric
            lines.append(ComparisonLine(cells, comparison, f"{metric} in {condition}: run B vs run A",
                                        short={"verdict": verdict_text(verdict, short=True)}))
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
