"""The run screen's tables: progress per condition, replicates, and live statistics."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from ...core import events as ev


def clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressTable(DataTable):
    """Per condition: replicates done / failed / total, elapsed and ETA."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.done: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.total = 0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.conditions: list[str] = []
        self._shown: dict[tuple[str, str], str] = {}

    def on_mount(self) -> None:
        for key, label, width in (("condition", "condition", None), ("done", "done", 5),
                                  ("failed", "failed", 6), ("total", "of", 5),
                                  ("elapsed", "elapsed", 7), ("eta", "ETA", 6)):
            self.add_column(label, key=key, width=width)

    def setup(self, conditions: list[str], per_condition: int, done_before: dict[str, int],
              now: float) -> None:
        self.conditions = list(conditions)
        self.total = per_condition
        self.started_at = now
        self._base = dict(done_before)
        self._shown.clear()
        self.clear()
        for c in conditions:
            self.done[c] = done_before.get(c, 0)
            self.failed[c] = 0
            self.add_row(c, "", "", "", "", "", key=c)
        self.refresh_cells(now)

    def count(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        c = event.treatment or ""
        self.done[c] = self.done.get(c, 0) + 1
        if isinstance(event, ev.ReplicateFailed):
            self.failed[c] = self.failed.get(c, 0) + 1

    def _set(self, row: str, column: str, value: Any) -> None:
        # update_cell re-renders (and caches) the table; skip cells that did not change.
        key = (row, column)
        if self._shown.get(key) != str(value):
            self._shown[key] = str(value)
            self.update_cell(row, column, value)

    def refresh_cells(self, now: float) -> None:
        if self.started_at is None:
            return
        end = self.ended_at if self.ended_at is not None else now
        elapsed = end - self.started_at
        for c in self.conditions:
            done, failed = self.done.get(c, 0), self.failed.get(c, 0)
            new = done - self._base.get(c, 0)
            remaining = self.total - done
            if remaining <= 0:
                eta = "✓"
            elif new and self.ended_at is None:
                eta = clock(elapsed / new * remaining)
            else:
                eta = "—"
            self._set(c, "done", str(done))
            self._set(c, "failed", Text(str(failed), style="bold red" if failed else "dim"))
            self._set(c, "total", str(self.total))
            self._set(c, "elapsed", clock(elapsed))
            self._set(c, "eta", eta)

    @property
    def finished_count(self) -> int:
        return sum(self.done.values())


MAX_ROWS = 1_000  # replicate rows kept in view; failed ones are never dropped


class ReplicateTable(DataTable):
    """One row per finished replicate, metric columns added as new metrics appear.

    A DataTable's cost grows with its rows, so beyond MAX_ROWS the oldest successful rows
    leave the view (every replicate is still in the store and the statistics)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.metric_columns: list[str] = []
        self.errors: dict[str, tuple[str, str]] = {}  # row key -> (error, traceback)
        self.rows_by_key: dict[str, tuple[str, int]] = {}
        self.total = 0

    def on_mount(self) -> None:
        # The seed is long; its full value is in the store, the error dialog and debug.
        for key, width in (("condition", None), ("replicate", None), ("status", None),
                           ("time", None), ("seed", 11)):
            self.add_column(key, key=key, width=width)

    def clear(self, columns: bool = False) -> ReplicateTable:
        super().clear(columns)
        self.errors.clear()
        self.rows_by_key.clear()
        self.total = 0
        return self

    def add_replicates(self, events: list[ev.ReplicateFinished | ev.ReplicateFailed],
                       total: int | None = None) -> None:
        """Show ``events``; ``total`` is how many replicates finished in all (some may be
        left out of the view)."""
        for event in events:
            self.add_replicate(event)
        self.total = self.total + len(events) if total is None else total
        excess = len(self.rows_by_key) - MAX_ROWS
        if excess > 0:
            for key in [k for k in self.rows_by_key if k not in self.errors][:excess]:
                self.remove_row(key)
                del self.rows_by_key[key]
        shown = len(self.rows_by_key)
        self.border_subtitle = f"latest {shown} of {self.total}" if shown < self.total else ""

    def add_replicate(self, event: ev.ReplicateFinished | ev.ReplicateFailed) -> None:
        key = f"{event.treatment}:{event.replicate}"
        if key in self.rows_by_key:  # a resumed run re-reports nothing, but be safe
            self.remove_row(key)
        metrics = event.metrics if isinstance(event, ev.ReplicateFinished) else {}
        for name in metrics:
            if name not in self.metric_columns:
                self.metric_columns.append(name)
                self.add_column(name, key=f"m:{name}", default="")
        if isinstance(event, ev.ReplicateFailed):
            status = Text("failed ⏎", style="bold red")
            self.errors[key] = (event.error, event.traceback)
        else:
            status = Text("ok", style="green")
        seed = str(event.seed)
        cells = [event.treatment, str(event.replicate), status, f"{event.duration:.1f}s",
                 seed if len(seed) <= 10 else seed[:9] + "…"]
        cells += [_metric_cell(metrics.get(name)) for name in self.metric_columns]
        self.add_row(*cells, key=key)
        self.rows_by_key[key] = (event.treatment or "", event.replicate or 0)

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


def _metric_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class StatsTable(DataTable):
    """Treatment vs baseline per metric: means, difference with CI, test, p, verdict."""

    # What a reader needs first comes first: the pane is often narrower than the table.
    COLUMNS = (("metric", "metric"), ("treatment", "treatment"),
               ("difference", "difference [CI]"), ("p_adjusted", "p adj"), ("verdict", "verdict"),
               ("test", "test"), ("n", "n"), ("baseline", "baseline mean (sd)"),
               ("treatment_mean", "treatment mean (sd)"), ("effect", "effect"), ("p", "p"))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.updated_at = 0.0

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def show(self, table: Any) -> None:
        from ...stats.render import row_cells

        self.clear()
        for row in table:
            cells = row_cells(row.comparison)
            verdict = cells["verdict"]
            style = "bold green" if verdict == "significant" else (
                "yellow" if verdict.startswith("inconclusive") else "")
            self.add_row(row.metric, row.treatment, cells["difference"], cells["p_adjusted"],
                         Text(verdict, style=style), cells["test"], cells["n"], cells["baseline"],
                         cells["treatment"], cells["effect"], cells["p"])
        self.updated_at = time.monotonic()
