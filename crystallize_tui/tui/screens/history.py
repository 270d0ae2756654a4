"""Past runs of an experiment from the store; open one, or compare two."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from ...core.chain import consumed_cells, is_chained
from ...core.errors import StoreError
from ...watch.headline import RUNNING, headline
from ..widgets.footer import KeyFooter
from ..widgets.stats_table import RunsComparisonTable
from ..widgets.tables import clock


def _when(timestamp: float | None, layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime(layout) if timestamp else "—"


def compare_runs(a: Any, b: Any) -> list[tuple[str, str, Any]]:
    """Each condition and metric both runs have: run B against run A. Replicates are
    paired only when both runs used the same base seed (then replicate k drew the same
    random numbers in both)."""
    from ...stats import compare_samples

    rows = []
    paired = a.seed == b.seed and a.replicates == b.replicates
    for condition in a.conditions:
        if condition not in b.conditions:
            continue
        for metric, values in a.metrics[condition].metrics.items():
            other = b.metrics[condition].metrics.get(metric)
            if other is None:
                continue
            rows.append((condition, metric, compare_samples(values, other, paired=paired,
                                                            seed=a.seed)))
    return rows


VERDICT_ROOM = 18  # columns kept for a verdict not read yet ("supported: spread")
# (label, key) of each layout's columns. Narrow: what a person scans for, in 80 columns; the
# rest of the highlighted run (whole id, seed, took, what it consumed) on a line below.
WIDE_COLUMNS = [("mark", "mark"), ("run id", "run id"), ("started", "started"),
                ("status", "status"), ("ok", "ok"), ("failed", "failed"), ("of", "of"),
                ("seed", "seed"), ("took", "took"), ("verdict", "verdict")]
NARROW_COLUMNS = [(" ", "mark"), ("run", "run id"), ("when", "started"), ("status", "status"),
                  ("done", "of"), ("verdict", "verdict")]
STATUS_STYLES = {"completed": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}
# Verdicts of runs already read, by (store, run, status, ok, failed): a run that changes
# (resumed, say) is read again; an ended one never is.
_HEADLINES: dict[tuple[str, str, str, int, int], str] = {}


def short_id(run_id: str) -> str:
    """The random tail of a run id ("a5458a" of 20261130-113952-a5458a: the date and time
    are in the when column); other ids whole, up to 12 characters."""
    head, _, tail = run_id.rpartition("-")
    if head and len(run_id) > 12 and tail:
        return tail
    return run_id if len(run_id) <= 12 else run_id[:11] + "…"


def _all_supported(headline: str) -> bool:
    """"supported: spread", or "3 of 3 supported": every hypothesis held."""
    if headline.startswith("supported"):
        return True
    held, of, total, *rest = (headline.split() + ["", "", ""])[:4]
    return of == "of" and rest == ["supported"] and held == total and held != "0"


@dataclass
class HeadlinesFound(Message):
    """Verdicts (watch/headline.py) of some runs of the table, by run id."""

    headlines: dict[str, str]


class HistoryScreen(Screen):
    """The runs table. enter: open a run; space: mark it; c: compare the marked run with
    the highlighted one. Where its columns do not all fit (80x24) the table keeps run, when,
    status, done and verdict; the highlighted run's other figures are on the line under it."""

    BINDINGS = [
        Binding("enter", "open", "Open run"),
        Binding("space", "mark", "Mark for compare"),
        Binding("c", "compare", "Compare with marked"),
        Binding("r", "run_again", "Run again",
                tooltip="A new run with the highlighted run's options (replicates, treatments, "
                        "seed, workers, overrides)"),
        Binding("g", "chart", "Chart",
                tooltip="A metric's mean and 95% CI in each run, oldest first: has it drifted?"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, experiment: Any) -> None:
        super().__init__()
        self.experiment = experiment
        self.marked: str | None = None
        self.records: dict[str, Any] = {}
        self.headlines: dict[str, str] = {}  # run id -> its verdict, once read
        self.consumed: dict[str, str] = {}
        self.narrow: bool | None = None  # the layout the table has now
        self.chained = is_chained(getattr(experiment, "datasource", None))

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="history-status")
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True, classes="pane")
            yield Static(id="history-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"history {self.experiment.name}"
        self.app.preload_statistics()  # opening or comparing runs shows their statistics
        self.query_one("#runs", DataTable).border_title = "runs, newest first"
        self.reload()

    def on_resize(self) -> None:
        if self.narrow is not None and self._narrow() != self.narrow:  # once laid out
            self._fill()

    def _narrow(self) -> bool:
        """Whether every column of the wide layout would not fit the screen's width (a
        chained experiment's consumed column, long seeds): then the narrow one."""
        widths = [len(label) for label, _ in self._wide_columns()]
        for r in self.records.values():
            cells = self._cells(r, narrow=False)
            widths = [max(w, cell_len(str(c))) for w, c in zip(widths, cells, strict=True)]
        verdict = [key for _, key in self._wide_columns()].index("verdict")
        widths[verdict] = max(widths[verdict], VERDICT_ROOM)
        # Each cell has a space either side; the pane's border and scrollbar take 4.
        return sum(w + 2 for w in widths) + 4 > self.app.size.width

    def _wide_columns(self) -> list[tuple[str, str]]:
        # which producer run each run read (core/chain.py)
        return [*WIDE_COLUMNS, *([("consumed", "consumed")] if self.chained else [])]

    def reload(self) -> None:
        store = self.experiment.store
        status = self.query_one("#history-status", Static)
        failed = False
        try:
            runs = store.runs(self.experiment.name) if store is not None else []
            records = {r.run_id: r for r in runs}
            consumed = consumed_cells(store, records) if self.chained else {}
        except StoreError as exc:  # a damaged file: say so here, the app stays up
            runs, records, consumed, failed = [], {}, {}, True
            status.update(Text(str(exc), style="bold red"))
            self.app.notify(str(exc), title="store unreadable", severity="error", timeout=10)
        self.records, self.consumed = records, consumed
        self.refresh_bindings()
        self._fill()
        if failed:  # the error stays on screen
            return
        if not runs:
            status.update(Text(f"no runs of {self.experiment.name} yet in "
                               f"{getattr(store, 'path', 'memory')}", style="dim"))
        else:
            self.find_headlines(runs)
            status.update(Text(f"{len(runs)} run(s) in {store.path} · enter opens · space marks · "
                               "c compares the marked run with the highlighted one · r runs the "
                               "highlighted one again with its options", style="dim"))

    def _fill(self) -> None:
        """(Re)build the table in the layout the width calls for, keeping the cursor's run."""
        table = self.query_one("#runs", DataTable)
        keep = self.highlighted()
        narrow = self.narrow = self._narrow()
        table.clear(columns=True)
        for label, key in NARROW_COLUMNS if narrow else self._wide_columns():
            table.add_column(label, key=key)
        for r in self.records.values():
            table.add_row(*self._cells(r, narrow), key=r.run_id)
        if keep in self.records:
            table.move_cursor(row=table.get_row_index(keep))
        self.query_one("#history-detail", Static).display = narrow
        self._show_detail()

    def _cells(self, r: Any, narrow: bool) -> list[Any]:
        mark = "●" if r.run_id == self.marked else ""
        status = Text(r.status, style=STATUS_STYLES.get(r.status, ""))
        if narrow:
            if r.kind == "confirmatory":
                status.append(" conf.", style="bold cyan")
            done = f"{r.ok}/{r.total}" + (f" {r.failed}✗" if r.failed else "")
            return [mark, short_id(r.run_id), _when(r.started_at, "%m-%d %H:%M"), status, done,
                    self._verdict(r.run_id)]
        # As the run screen shows elapsed, so that the two agree.
        took = clock(r.finished_at - r.started_at) if r.finished_at else "—"
        if r.kind == "confirmatory":  # run on fresh seeds, locked (crystallize confirm)
            status.append(" · confirmatory", style="bold cyan")
        return [mark, r.run_id, _when(r.started_at), status, str(r.ok), str(r.failed),
                str(r.total), str(r.base_seed), took, self._verdict(r.run_id),
                *([self.consumed.get(r.run_id) or "—"] if self.chained else [])]

    def _verdict(self, run_id: str) -> Text:
        text = self.headlines.get(run_id)
        if text is None:
            return Text("…", style="dim")  # being read (find_headlines)
        return Text(text, style="green" if _all_supported(text) else "")

    @work(thread=True, exclusive=True, group="history-headlines", exit_on_error=False)
    def find_headlines(self, runs: list[Any]) -> None:
        """Each run's verdict, newest first, off the UI thread (a run is loaded and tested
        with scipy); posted a few at a time so the first rows fill soon."""
        store = self.experiment.store
        found: dict[str, str] = {}
        for r in runs:
            key = (str(store.path), r.run_id, r.status, r.ok, r.failed)
            text = RUNNING if r.status == "running" else _HEADLINES.get(key)
            if text is None:
                try:
                    text = headline(store.load(r.run_id))
                except Exception as exc:  # noqa: BLE001 - a damaged run: say so in its row
                    text = f"unreadable: {type(exc).__name__}"
                _HEADLINES[key] = text
            found[r.run_id] = text
            if len(found) >= 8:
                self.post_message(HeadlinesFound(found))
                found = {}
        if found:
            self.post_message(HeadlinesFound(found))

    @on(HeadlinesFound)
    def _headlines_found(self, message: HeadlinesFound) -> None:
        self.headlines.update(message.headlines)
        if self._narrow() != self.narrow:  # a verdict longer than the room kept for it
            self._fill()
            return
        table = self.query_one("#runs", DataTable)
        for run_id in message.headlines:
            if run_id in self.records:
                table.update_cell(run_id, "verdict", self._verdict(run_id), update_width=True)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#runs")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """The highlighted run's figures the narrow table leaves out."""
        detail = self.query_one("#history-detail", Static)
        run_id = self.highlighted()
        r = self.records.get(run_id) if run_id is not None else None
        if not self.narrow or r is None:
            detail.update("")
            return
        took = clock(r.finished_at - r.started_at) if r.finished_at else "—"
        parts = [f"run {r.run_id}", f"seed {r.base_seed}", f"took {took}",
                 f"{r.ok} ok, {r.failed} failed of {r.total}"]
        if r.kind == "confirmatory":
            parts.append("confirmatory (fresh seeds)")
        if self.headlines.get(r.run_id):
            parts.append(self.headlines[r.run_id])
        if self.consumed.get(r.run_id):
            parts.append(f"consumed {self.consumed[r.run_id]}")
        detail.update(Text(" · ".join(parts), style="dim"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "mark", "run_again", "chart"):
            return bool(self.records)
        if action == "compare":  # shown once a run is marked
            return self.marked is not None and len(self.records) > 1
        return True

    def highlighted(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.value)

    @on(DataTable.RowSelected, "#runs")
    def _chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        run_id = self.highlighted()
        if run_id is not None:
            self.app.open_stored_run(self.experiment, run_id)

    def action_run_again(self) -> None:
        run_id = self.highlighted()
        if run_id is not None:
            self.app.run_again(self.experiment, run_id)

    def action_chart(self) -> None:
        from .charts_history import ChartScreen

        self.app.push_screen(ChartScreen(self.experiment, run_ids=list(self.records)))

    def action_mark(self) -> None:
        run_id = self.highlighted()
        if run_id is None:
            return
        self.marked = None if self.marked == run_id else run_id
        self.refresh_bindings()
        table = self.query_one("#runs", DataTable)
        for key in self.records:
            table.update_cell(key, "mark", "●" if key == self.marked else "")

    def action_compare(self) -> None:
        other = self.highlighted()
        if self.marked is None or other is None or other == self.marked:
            self.app.notify("mark one run with space, then highlight another and press c",
                            timeout=4)
            return
        store = self.experiment.store
        self.app.push_screen(CompareRunsScreen(store.load(self.marked), store.load(other)))

    def action_back(self) -> None:
        self.app.pop_screen()


class CompareRunsScreen(Screen):
    """Run B against run A, per condition and metric."""

    BINDINGS = [Binding("g", "chart", "Chart", tooltip="Run A and run B side by side per "
                        "condition: a point per replicate, the mean and its 95% CI"),
                Binding("escape", "back", "Back")]

    def __init__(self, a: Any, b: Any) -> None:
        super().__init__()
        self.a, self.b = a, b

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="compare-status")
            yield RunsComparisonTable(id="compare", classes="pane")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"compare runs of {self.a.experiment}"
        pairing = "paired by replicate (same seed)" if (
            self.a.seed == self.b.seed and self.a.replicates == self.b.replicates) else "unpaired"
        self.query_one("#compare-status", Static).update(Text(
            f"A = {self.a.run_id} (seed {self.a.seed})   B = {self.b.run_id} (seed {self.b.seed})"
            f"   differences are B − A, {pairing}"))
        table = self.query_one("#compare", RunsComparisonTable)
        table.border_title = "run B vs run A"
        table.show_runs(list(compare_runs(self.a, self.b)))

    def action_chart(self) -> None:
        from .charts_history import ChartScreen

        self.app.push_screen(ChartScreen(None, pair=(self.a, self.b)))

    def action_back(self) -> None:
        self.app.pop_screen()
