"""The run screen's tables: progress per condition and finished replicates (statistics: stats_table)."""

from __future__ import annotations

import time
from bisect import bisect_left
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ...charts.sparkline import sparkline
from ...core import events as ev
from ...render.palette import condition_colour
from ...watch.progress import ETA_NOTE, ProgressReducer, clock
from .stats_table import StatsTable  # the run screen takes its tables from here

PROGRESS_NAME_MIN = 12  # the condition column is never cut below this many cells


def drop_stale_renders(table: DataTable) -> None:
    """Call after changing ``table``. Textual keys a DataTable's render caches (cells, rows,
    lines) by a count of its changes, so after one every entry drawn before is dead, yet
    it stays in the LRU until 10,000 (cells) or 1,000 (lines) newer ones push it out:
    tens of thousands of objects that every full garbage collection scans (70-200 ms of
    the UI thread with short replicates, bench/RESULTS.md). Dropped here, they go at once."""
    clear = getattr(table, "_clear_caches", None)  # Textual's own reset (clear() calls it)
    if clear is not None:
        clear()


class ProgressTable(DataTable):
    """Per condition: replicates done / failed / total, elapsed and ETA (counted by the
    shared progress reducer in watch/progress.py; this widget only shows it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.reducer = ProgressReducer()
        self._shown: dict[tuple[str, str], str] = {}
        self._name_width: int | None = None  # the condition column's cut, when names are cut
        self._now: float | None = None  # the clock of the cells shown last
        self.tooltip = ETA_NOTE

    COLUMNS = (("done", "done", 5), ("failed", "failed", 6), ("total", "of", 5),
               ("elapsed", "elapsed", 7), ("eta", "ETA", 6))

    def on_mount(self) -> None:
        self._add_columns(None)

    def _add_columns(self, name_width: int | None) -> None:
        self.add_column("condition", key="condition", width=name_width)
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)

    def _name_room(self) -> int | None:
        """Cells for the condition column so that the counts and ETA stay in sight (a
        narrow pane, long names); None: the names fit whole."""
        names = [cell_len(f"■ {c}") for c in self.reducer.conditions]
        room = self.size.width - 2 - sum(width + 2 for _, _, width in self.COLUMNS) - 2
        if not names or not self.size.width:
            return None
        # Always a set width once the pane is laid out: an automatic one grows with what
        # the column held before a clear, so the same run drew it a cell wider at times.
        need = max(*names, cell_len("condition"))
        return need if need <= room else max(room, PROGRESS_NAME_MIN)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self._name_room()
        if width == self._name_width:
            return
        self._name_width = width
        self.clear(columns=True)
        self._add_columns(width)
        self._add_rows()
        self._shown.clear()
        if self._now is not None:  # the cells as they were (a stored run's clock is its own)
            self.refresh_cells(self._now)

    @property
    def conditions(self) -> list[str]:
        return self.reducer.conditions

    @property
    def total(self) -> int:
        return self.reducer.per_condition

    @property
    def started_at(self) -> float | None:
        return self.reducer.started_at

    @property
    def ended_at(self) -> float | None:
        return self.reducer.ended_at

    @ended_at.setter
    def ended_at(self, at: float | None) -> None:
        self.reducer.ended_at = at

    def setup(self, conditions: list[str], per_condition: int, done_before: dict[str, int],
              now: float) -> None:
        self.reducer.start(conditions, per_condition, done_before, now)
        self._shown.clear()
        self._name_width = self._name_room()  # None until the pane is laid out (then _fit)
        self.clear(columns=True)
        self._add_columns(self._name_width)
        self._add_rows()
        self.refresh_cells(now)
        self.call_after_refresh(self._fit)

    def _add_rows(self) -> None:
        for i, c in enumerate(self.reducer.conditions):
            # The mark in the condition's colour: the one its curves and points have in charts.
            name = Text.assemble(("■ ", condition_colour(i)), c)
            if self._name_width is not None:  # cut (…) so the counts stay in sight
                name.truncate(self._name_width, overflow="ellipsis")
            self.add_row(name, "", "", "", "", "", key=c)

    def count(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        self.reducer.count(event.treatment or "", failed=isinstance(event, ev.ReplicateFailed))

    def add_counts(self, counts: dict[str, tuple[int, int]]) -> None:
        """(ok, failed) replicates per condition finished at once (a late watcher's state)."""
        for condition, (ok, failed) in counts.items():
            for _ in range(ok):
                self.reducer.count(condition)
            for _ in range(failed):
                self.reducer.count(condition, failed=True)

    def _set(self, row: str, column: str, value: Any) -> bool:
        # update_cell re-renders (and caches) the table; skip cells that did not change.
        key = (row, column)
        if self._shown.get(key) == str(value):
            return False
        self._shown[key] = str(value)
        self.update_cell(row, column, value)
        return True

    def refresh_cells(self, now: float) -> None:
        if self.reducer.started_at is None:
            return
        self._now = now
        snapshot = self.reducer.snapshot(now)
        changed = False
        for c in snapshot.conditions:
            if c.condition not in self.rows:
                continue
            eta = "✓" if c.remaining == 0 else "—" if c.eta is None else clock(c.eta)
            changed |= self._set(c.condition, "done", str(c.done))
            changed |= self._set(c.condition, "failed",
                                 Text(str(c.failed), style="bold red" if c.failed else "dim"))
            changed |= self._set(c.condition, "total", str(c.total))
            changed |= self._set(c.condition, "elapsed", clock(snapshot.elapsed))
            changed |= self._set(c.condition, "eta", eta)
        if changed:
            drop_stale_renders(self)

    @property
    def finished_count(self) -> int:
        return self.reducer.finished_count


RATE_SECONDS = 30  # the rate sparkline covers this many seconds, one character each


class RateSparkline(Static):
    """Replicates finished per second, once a second, as a sparkline under the progress
    table it reads (``progress``: its id); hidden until the run has finished some."""

    DEFAULT_CSS = """
    RateSparkline {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, progress: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.progress = progress
        self.rates: list[float] = []
        self._last: int | None = None
        self._at = 0.0

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(1.0, self.sample)

    def sample(self) -> None:
        if not self.screen.query(self.progress):
            return
        table = self.screen.query_one(self.progress, ProgressTable)
        if table.started_at is None or table.ended_at is not None:
            self._last = None  # not running (stored, or ended): the last line stays
            return
        now, count = time.monotonic(), table.finished_count
        if self._last is not None and now > self._at:
            self.rates = [*self.rates, (count - self._last) / (now - self._at)][-RATE_SECONDS:]
            self.display = True
            self.update(Text.assemble(("replicates/s ", "dim"),
                                      sparkline(self.rates, RATE_SECONDS, low=0.0),
                                      f" {self.rates[-1]:.1f} now · {max(self.rates):.1f} peak"))
        self._last, self._at = count, now


MAX_ROWS = 1_000  # replicate rows in view at once; older ones are reached a page at a time
# Rows past MAX_ROWS the view may hold before it is trimmed. A DataTable removes a row in
# time proportional to its rows (~0.9 ms at 1,000, measured), so trimming each batch of 40
# cost ~35 ms of the UI thread per batch once a run passed 1,000 replicates; rebuilding the
# whole view costs ~20 ms, once per TRIM_SLACK rows (and at the run's end, by catch_up).
TRIM_SLACK = 250
ROWS_PER_FLUSH = 40  # while a fast run goes, the newest rows shown per batch (the rest on a page)
# Metric names longer than this are shortened in the replicate table's header (enter on a
# row shows them in full): long enough for names such as "mafia_survivors" or
# "held_out_accuracy" (12 cut the README's own example), short enough that one very long
# name does not push the other metrics out of sight.
METRIC_LABEL_MAX = 17


class ReplicateTable(DataTable):
    """Finished replicates in finishing order, metric columns added as new metrics appear.

    A DataTable's cost grows with its rows, so the view holds at most MAX_ROWS of them.
    While the cursor is on the last row the view follows the newest; ``[`` and ``]`` page
    to older and newer rows, so every replicate stays reachable. Enter on a row: every
    figure of it (seed, duration, each metric)."""

    BINDINGS = [
        Binding("left_square_bracket", "older", "Older rows", tooltip="The previous page of replicates"),
        Binding("right_square_bracket", "newer", "Newer rows", tooltip="The next page; the last one follows new results"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.metric_columns: list[str] = []
        self.events: list[ev.ReplicateFinished | ev.ReplicateFailed] = []  # every one, in order
        self.errors: dict[str, tuple[str, str]] = {}  # row key -> (error, traceback)
        self.rows_by_key: dict[str, tuple[str, int]] = {}  # rows in view
        self.page_start: int | None = None  # index in ``events`` of the page shown; None: newest
        self.failed_at: list[int] = []  # indices in ``events`` of the failed ones, ascending
        self._settle_follow: bool | None = None  # a settle is due; whether to follow then
        self._settle_cursor = 0  # the cursor row when it was scheduled
        self.sparse = False  # the view skipped rows of a fast run (catch_up fills them in)
        self.untrimmed = False  # the view holds up to TRIM_SLACK rows past MAX_ROWS
        # Row key -> series metric -> every value: those cells show a sparkline and the last.
        self.series: dict[str, dict[str, list[float]]] = {}

    @property
    def total(self) -> int:
        return len(self.events)

    def set_series(self, series: dict[tuple[str, int], dict[str, list[float]]]) -> None:
        """Each replicate's series metrics (condition, replicate) -> name -> values: the
        rows in view that have one show its sparkline; rows added later too."""
        for (condition, replicate), metrics in series.items():
            key = f"{condition}:{replicate}"
            self.series[key] = metrics
            if key not in self.rows_by_key:
                continue
            for name, values in metrics.items():
                if name in self.metric_columns and len(values) > 1:
                    self.update_cell(key, f"m:{name}", _series_cell(values), update_width=True)

    @property
    def following(self) -> bool:
        return self.page_start is None

    def on_mount(self) -> None:
        # The seed and duration of a row are behind enter, to leave the width to the metrics.
        for key, label in (("condition", "condition"), ("replicate", "#"), ("status", "status")):
            self.add_column(label, key=key)
        self._subtitle()

    def on_resize(self) -> None:
        if self.following and self.row_count:  # keep the newest row in sight
            self.call_after_refresh(self.move_cursor, row=self.row_count - 1, animate=False)

    def clear(self, columns: bool = False) -> ReplicateTable:
        super().clear(columns)
        self.series = {}
        self.errors.clear()
        self.rows_by_key.clear()
        self.events = []
        self.failed_at = []
        self.page_start = None
        self.sparse = self.untrimmed = False
        return self

    def add_replicates(self, events: list[ev.ReplicateFinished | ev.ReplicateFailed],
                       throttle: bool = False) -> None:
        """Take ``events`` in. With ``throttle`` (a run going fast) at most ROWS_PER_FLUSH
        of them, the newest, and every failed one join the view; ``catch_up`` fills it."""
        for event in events:
            self._remember(event)
        if not self.following:  # someone reads an older page: leave it where it is
            self._subtitle()
            return
        if self._settle_follow is None:  # trim and move the cursor once a frame, not per call
            self._settle_follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
            self._settle_cursor = self.cursor_row
            self.call_after_refresh(self._settle)
        shown = events
        if throttle and len(events) > ROWS_PER_FLUSH:
            shown = [e for e in events[:-ROWS_PER_FLUSH] if isinstance(e, ev.ReplicateFailed)]
            shown += events[-ROWS_PER_FLUSH:]
            self.sparse = True
        for event in shown:
            self._add_row(event)
        if shown:
            drop_stale_renders(self)
            if self._settle_follow and len(self.rows_by_key) <= MAX_ROWS + TRIM_SLACK:
                self._follow_now()

    def _follow_now(self) -> None:
        """Put the cursor (and the view) on the newest row in this frame. Left to the table,
        the scroll waits for a refresh (new rows are measured when idle), so each batch was
        drawn twice: first on the rows about to scroll away (~25 lines at ~1 ms each)."""
        header = self.header_height if self.show_header else 0
        self.virtual_size = self.virtual_size.with_height(header + self.row_count)  # rows of 1
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.move_cursor(row=self.row_count - 1, animate=False, scroll=False)
        self._settle_cursor = self.cursor_row  # moved for the reader, not by them

    def _settle(self) -> None:
        """Keep at most MAX_ROWS rows (the oldest successful ones leave the view) and, if
        the cursor was on the newest row, put it on the new newest."""
        at_end, self._settle_follow = self._settle_follow, None
        if not self.following:
            return
        if self.cursor_row != self._settle_cursor:  # the reader moved meanwhile: leave it there
            at_end = False
        excess = len(self.rows_by_key) - MAX_ROWS
        if excess > TRIM_SLACK:  # one rebuild of the newest MAX_ROWS, not a removal per row
            reading = None if at_end else self.coordinate_to_cell_key(self.cursor_coordinate).row_key
            self._show(max(0, self.total - MAX_ROWS), follow=True)
            drop_stale_renders(self)
            if reading is not None:  # keep the cursor on the row it was on, if still in view
                at_end = reading.value not in self.rows_by_key
                if not at_end:
                    self.move_cursor(row=self.get_row_index(reading), animate=False)
        elif excess > 0:
            self.untrimmed = True  # over by a few: trimmed later (past the slack, or by catch_up)
        if at_end and self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
        self._subtitle()

    def add_replicate(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        self.add_replicates([event])

    def catch_up(self) -> None:
        """Show the newest MAX_ROWS replicates without gaps (and older failed ones); a
        cursor left on an older row stays on it."""
        # (untrimmed may not be set yet: the batch that crossed MAX_ROWS settles after this)
        over = self.untrimmed or len(self.rows_by_key) > MAX_ROWS
        if not self.following or not (self.sparse or over):  # the view is the tail already
            return
        if self._settle_follow is not None and self.cursor_row == self._settle_cursor:
            at_end = self._settle_follow  # rows came after the cursor was last placed
        else:
            at_end = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        reading = None if at_end else self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        self._show(max(0, self.total - MAX_ROWS), follow=True)
        if reading is not None and reading.value in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(reading), animate=False)

    def action_older(self) -> None:
        if self.page_start is None:
            tail = max(0, self.total - MAX_ROWS)
            if self.sparse or self.untrimmed:  # first the tail page, complete, held still
                start = tail
            elif tail == 0:
                self.app.bell()
                return
            else:
                start = max(0, tail - MAX_ROWS)
        elif self.page_start == 0:
            self.app.bell()
            return
        else:
            start = max(0, self.page_start - MAX_ROWS)
        self.page_start = start
        self._show(start, follow=False)

    def action_newer(self) -> None:
        if self.page_start is None:
            self.app.bell()
            return
        start = self.page_start + MAX_ROWS
        if start + MAX_ROWS >= self.total:  # the last page: follow new results again
            self.page_start = None
            self._show(max(0, self.total - MAX_ROWS), follow=True)
        else:
            self.page_start = start
            self._show(start, follow=False)

    def _show(self, start: int, follow: bool) -> None:
        super().clear()
        self.rows_by_key.clear()
        self.sparse = self.untrimmed = False
        page = self.events[start:start + MAX_ROWS]
        if follow:  # failures are what a reader looks for: older ones stay above the newest
            page = [self.events[i] for i in self.failed_at[:bisect_left(self.failed_at, start)]] + page
        for event in page:
            self._add_row(event)
        if self.row_count:
            self.move_cursor(row=self.row_count - 1 if follow else 0, animate=False)
        self._subtitle()

    def _remember(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        if isinstance(event, ev.ReplicateFailed):
            self.errors[_key(event)] = (event.error, event.traceback)
            self.failed_at.append(len(self.events))
        self.events.append(event)

    def _add_row(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        key = _key(event)
        if key in self.rows_by_key:  # a resumed run re-reports nothing, but be safe
            self.remove_row(key)
        metrics = event.metrics if isinstance(event, ev.ReplicateFinished) else {}
        for name in metrics:
            if name not in self.metric_columns:
                self.metric_columns.append(name)
                label = name if len(name) <= METRIC_LABEL_MAX else name[:METRIC_LABEL_MAX - 1] + "…"
                self.add_column(label, key=f"m:{name}", default="")
        if isinstance(event, ev.ReplicateFailed):
            status = Text("failed ⏎", style="bold red")
        else:
            status = Text("ok", style="green")
        cells = [event.treatment, str(event.replicate), status]
        series = self.series.get(key, {})
        cells += [_series_cell(series[name]) if len(series.get(name, ())) > 1
                  else _metric_cell(metrics.get(name)) for name in self.metric_columns]
        self.add_row(*cells, key=key)
        self.rows_by_key[key] = (event.treatment or "", event.replicate or 0)

    def _subtitle(self) -> None:
        if self.following:
            if self.total <= len(self.rows_by_key):
                self.border_subtitle = ""
                return
            failed = bisect_left(self.failed_at, self.total - MAX_ROWS)
            older = f" · {failed} older failed shown first" if failed else ""
            skipped = " (some skipped while the run is fast)" if self.sparse else ""
            self.border_subtitle = f"newest of {self.total:,}{skipped}{older} · [ older rows"
        else:
            start = self.page_start or 0
            end = min(self.total, start + MAX_ROWS)
            self.border_subtitle = f"rows {start + 1:,}–{end:,} of {self.total:,} · [ older · ] newer"

    def selected_event(self) -> ev.ReplicateFinished | ev.ReplicateFailed | None:
        picked = self.selected()
        if picked is None:
            return None
        key = f"{picked[0]}:{picked[1]}"
        return next((e for e in reversed(self.events) if _key(e) == key), None)

    def selected(self) -> tuple[str, int] | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self.rows_by_key.get(str(row_key.value))

    def selected_error(self) -> tuple[str, str] | None:
        picked = self.selected()
        if picked is None:
            return None
        return self.errors.get(f"{picked[0]}:{picked[1]}")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # A failed row opens its error (the screen does that); any other, its figures.
        chosen = self.selected_event()
        if event.data_table is not self or not isinstance(chosen, ev.ReplicateFinished):
            return
        from ..screens.figures import FiguresScreen

        figures = [("condition", chosen.treatment or ""), ("replicate", str(chosen.replicate)),
                   ("status", "ok"), ("seed", str(chosen.seed)),
                   ("duration", f"{chosen.duration:.3f} s")]
        figures += [(name, _full_value(value)) for name, value in chosen.metrics.items()]
        self.app.push_screen(FiguresScreen(
            f"{chosen.treatment} replicate {chosen.replicate}", figures))


def _key(event: ev.ReplicateFinished | ev.ReplicateFailed) -> str:
    return f"{event.treatment}:{event.replicate}"


def _full_value(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _series_cell(values: list[float]) -> Text:
    """A series metric: its shape (a sparkline) and its last value."""
    return Text.assemble((sparkline(values, SPARK_WIDTH), "dim"), " " + _metric_cell(values[-1]))


SPARK_WIDTH = 8  # characters of a replicate's sparkline


def _metric_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


__all__ = ["MAX_ROWS", "ROWS_PER_FLUSH", "ProgressTable", "RateSparkline", "ReplicateTable",
           "StatsTable", "clock"]
