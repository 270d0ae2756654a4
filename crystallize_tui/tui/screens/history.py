"""Past runs of an experiment from the store; open one, or compare two."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from ...core.chain import consumed_cells, is_chained
from ..widgets.footer import KeyFooter
from ..widgets.stats_table import RunsComparisonTable
from ..widgets.tables import clock


def _when(timestamp: float | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S") if timestamp else "—"


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


class HistoryScreen(Screen):
    """The runs table. enter: open a run; space: mark it; c: compare the marked run with
    the highlighted one."""

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
        self.chained = is_chained(getattr(experiment, "datasource", None))

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="history-status")
            yield DataTable(id="runs", cursor_type="row", zebra_stripes=True, classes="pane")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"history {self.experiment.name}"
        self.app.preload_statistics()  # opening or comparing runs shows their statistics
        table = self.query_one("#runs", DataTable)
        table.border_title = "runs, newest first"
        for key in ("mark", "run id", "started", "status", "ok", "failed", "of", "seed", "took"):
            table.add_column(key, key=key)
        if self.chained:  # which producer run each run read (core/chain.py)
            table.add_column("consumed", key="consumed")
        self.reload()

    def reload(self) -> None:
        table = self.query_one("#runs", DataTable)
        table.clear()
        store = self.experiment.store
        runs = store.runs(self.experiment.name) if store is not None else []
        self.records = {r.run_id: r for r in runs}
        self.refresh_bindings()
        consumed = consumed_cells(store, self.records) if self.chained else {}
        for r in runs:
            # As the run screen shows elapsed, so that the two agree.
            took = clock(r.finished_at - r.started_at) if r.finished_at else "—"
            style = {"completed": "green", "failed": "red", "cancelled": "yellow"}.get(r.status, "")
            status = Text(r.status, style=style)
            if r.kind == "confirmatory":  # run on fresh seeds, locked (crystallize confirm)
                status.append(" · confirmatory", style="bold cyan")
            table.add_row("●" if r.run_id == self.marked else "", r.run_id, _when(r.started_at),
                          status, str(r.ok), str(r.failed), str(r.total),
                          str(r.base_seed), took,
                          *([consumed[r.run_id] or "—"] if self.chained else []), key=r.run_id)
        status = self.query_one("#history-status", Static)
        if not runs:
            status.update(Text(f"no runs of {self.experiment.name} yet in "
                               f"{getattr(store, 'path', 'memory')}", style="dim"))
        else:
            status.update(Text(f"{len(runs)} run(s) in {store.path} · enter opens · space marks · "
                               "c compares the marked run with the highlighted one · r runs the "
                               "highlighted one again with its options", style="dim"))

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
