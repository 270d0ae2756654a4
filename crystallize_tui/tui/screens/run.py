"""The run screen: progress, live output, per-replicate metrics and live statistics."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...core import events as ev
from ...core.result import FAILED, OK, ReplicateResult, Result
from ..bridge import RunBridge
from ..messages import RunCompleted, RunCrashed, StatsComputed
from ..widgets.output import OutputLog
from ..widgets.tables import ProgressTable, ReplicateTable, StatsTable, clock

DRAIN_INTERVAL = 1 / 15  # how often the UI takes what the run produced
STATS_INTERVAL = 1.0  # live statistics are recomputed at most this often
ROWS_INTERVAL = 0.5  # replicate rows are added in batches this often (rows cost the UI most)


def result_from_events(name: str, conditions: list[str], replicates: int, seed: int,
                       finished: list[Any]) -> Result:
    """A Result over the replicates finished so far (for live statistics).

    Only replicate numbers finished (or failed) in every condition take part, renumbered
    0..k-1 in order, so a pair is "dropped" only for a real failure or a missing metric,
    never because one side has not run yet."""
    done: dict[str, set[int]] = {c: set() for c in conditions}
    for e in finished:
        done.setdefault(e.treatment, set()).add(e.replicate)
    common = sorted(set.intersection(*(done[c] for c in conditions))) if conditions else []
    index = {k: i for i, k in enumerate(common)}
    outcomes = [
        ReplicateResult(e.treatment, index[e.replicate], e.seed, OK, list(e.metrics.items()),
                        e.duration)
        if isinstance(e, ev.ReplicateFinished)
        else ReplicateResult(e.treatment, index[e.replicate], e.seed, FAILED, [], e.duration,
                             e.error, e.traceback)
        for e in finished if e.replicate in index
    ]
    return Result(run_id="live", experiment=name, seed=seed, replicates=len(common),
                  conditions=conditions, configs={}, outcomes=outcomes, status="running",
                  complete=False)


class RunScreen(Screen):
    """One run, live (launched from here) or stored (opened from history)."""

    # Layouts in app.tcss: panes stack below 120 columns, progress over statistics below 160.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-medium"), (160, "-wide")]

    BINDINGS = [
        Binding("c", "cancel_run", "Cancel", tooltip="Stop the run: no new replicate starts"),
        Binding("f", "filter_output", "Filter", tooltip="Show output of one condition (cycles)"),
        Binding("d", "debug", "Debug", tooltip="Run one replicate of the selected condition"),
        Binding("r", "rerun", "Run again/resume", tooltip="Resume a cancelled run, or run again"),
        Binding("h", "history", "History"),
        Binding("D", "diff", "Diff"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, experiment: Any, *, options: dict[str, Any] | None = None,
                 stored: Result | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self.experiment = experiment
        self.options = dict(options or {})
        self.stored = stored
        self.bridge = RunBridge()
        self.live = stored is None
        self.running = False
        self.cancelling = False
        self.result: Result | None = stored
        self.finished: list[Any] = []
        self.started: ev.RunStarted | None = None
        self._stats_dirty = False
        self._filters: list[str | None] = [None]
        self._pending_rows: list[Any] = []
        self._stats_at = 0.0
        self._stats_cost = 0.0

    # -- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-top"):
            with Vertical(id="progress-pane", classes="pane"):
                yield Static(id="run-status")
                yield ProgressTable(id="progress")
            with Vertical(id="stats-pane", classes="pane"):
                yield StatsTable(id="stats")
                yield Static(id="verdicts")
        with Horizontal(id="run-bottom"):
            yield OutputLog(id="output", classes="pane")
            yield ReplicateTable(id="replicates", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"{self.experiment.name}"
        self.query_one("#progress-pane").border_title = "progress"
        self.query_one("#stats-pane").border_title = "treatment vs baseline"
        self.query_one("#output", OutputLog).border_title = "output · all conditions"
        self.query_one("#replicates").border_title = "replicates (enter: every figure, or the error)"
        if self.stored is not None:
            self._show_stored(self.stored)
            return
        self.set_interval(DRAIN_INTERVAL, self.drain)
        self.set_interval(ROWS_INTERVAL, self.flush_rows)
        self.set_interval(STATS_INTERVAL, self.refresh_stats)
        self.start_run()

    # -- the run ------------------------------------------------------------------
    def start_run(self, **extra: Any) -> None:
        self.running = True
        self.cancelling = False
        self._set_status("starting…")
        self.execute(dict(self.options, **extra))

    @work(thread=True, exit_on_error=False, group="runs")
    def execute(self, options: dict[str, Any]) -> None:
        try:
            result = self.experiment.run(echo=False, subscribers=[self.bridge], **options)
        except Exception as exc:  # a plugin or the store failed: say so, keep the app
            self.post_message(RunCrashed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(RunCompleted(result))

    def drain(self) -> None:
        if not self.is_attached or not self.query("#progress"):
            return  # the timer can fire once more while the app shuts the screen down
        batch = self.bridge.drain()
        if not batch:
            self.query_one("#progress", ProgressTable).refresh_cells(time.monotonic())
            return
        progress = self.query_one("#progress", ProgressTable)
        if batch.started is not None:
            self._on_started(batch.started)
        if batch.lines:
            self.query_one("#output", OutputLog).add(batch.lines)
        if batch.finished:
            for event in batch.finished:
                progress.count(event)
            self._pending_rows.extend(batch.finished)
            self.finished.extend(batch.finished)
            self._stats_dirty = True
        progress.refresh_cells(time.monotonic())
        if self.running and not self.cancelling:
            self._set_status(f"running · {progress.finished_count} of "
                             f"{progress.total * len(progress.conditions)} replicates")

    def _on_started(self, started: ev.RunStarted) -> None:
        self.started = started
        resumed = " · resumed" if started.done_before else ""
        self.sub_title = f"run {started.run_id} · seed {started.seed}{resumed}"
        self._filters = [None, *started.conditions]
        self.query_one("#progress", ProgressTable).setup(
            list(started.conditions), started.replicates, started.done_before, time.monotonic())
        self.app.refresh_home()  # the experiments list shows it running
        if started.done_before and self.experiment.store is not None:
            # A resumed run: show the replicates it had finished before, from the store.
            for rep in self.experiment.store.replicates(started.run_id):
                if rep.ok:
                    event = ev.ReplicateFinished(started.run_id, rep.treatment, rep.replicate, 0.0,
                                                 rep.seed, rep.duration, rep.metrics)
                    self._pending_rows.append(event)
                    self.finished.append(event)

    def flush_rows(self, final: bool = False) -> None:
        """Add finished replicates to the table in batches: hundreds of rows a second would
        eat the UI thread, and nobody reads them at that rate. While the run goes the table
        shows the newest of each batch (older ones are a page away); at the end it catches up."""
        if not self.query("#replicates"):
            return
        table = self.query_one("#replicates", ReplicateTable)
        rows, self._pending_rows = self._pending_rows, []
        if rows:
            table.add_replicates(rows, throttle=not final)
        if final:
            table.catch_up()

    def refresh_stats(self) -> None:
        if not self._stats_dirty or self.started is None or not self.query("#stats"):
            return
        # The comparison costs more as replicates pile up and competes with the run for the
        # GIL: spend at most ~10% of the time on it.
        if time.monotonic() - self._stats_at < 10 * self._stats_cost:
            return
        self._stats_dirty = False
        self._stats_at = time.monotonic()
        s = self.started
        if len(s.conditions) > 1:
            self.compute_stats(s, list(self.finished))

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def compute_stats(self, started: ev.RunStarted, finished: list[Any]) -> None:
        """scipy off the UI thread: a large run's comparison takes a while."""
        began = time.perf_counter()
        partial = result_from_events(started.experiment, list(started.conditions),
                                     started.replicates, started.seed, finished)
        table = partial.compare()
        self._stats_cost = time.perf_counter() - began
        self.post_message(StatsComputed(table, partial.replicates))

    @on(StatsComputed)
    def _stats_computed(self, message: StatsComputed) -> None:
        if self.running:  # the final table, once shown, is not replaced by a late live one
            self.query_one("#stats", StatsTable).show(
                message.table, note=f"live: {message.replicates} replicate(s) done in every condition")

    @on(RunCompleted)
    def _completed(self, message: RunCompleted) -> None:
        self.drain()
        self.flush_rows(final=True)
        self.running = False
        result = self.result = message.result
        progress = self.query_one("#progress", ProgressTable)
        progress.ended_at = time.monotonic()
        progress.refresh_cells(progress.ended_at)
        self._show_final(result)
        self._stats_dirty = False  # the final table stands; no live recomputation after it
        self.app.refresh_home()
        if result.status == "cancelled":
            self._set_status(f"cancelled · {len(result.replicate_results)} finished replicates "
                             "kept in the store · r resumes", "yellow")
        elif result.status == "failed":
            self._set_status(f"finished with {len(result.errors)} failed replicate(s) in "
                             f"{clock(result.duration)} · enter on a failed row shows its error",
                             "red")
        else:
            self._set_status(f"completed in {clock(result.duration)} · run {result.run_id}", "green")

    @on(RunCrashed)
    def _crashed(self, message: RunCrashed) -> None:
        self.drain()
        self.flush_rows(final=True)
        self.running = False
        self._set_status(f"stopped: {message.error}", "bold red")
        self.app.notify(message.error, title="run failed", severity="error", timeout=10)

    def _show_final(self, result: Result) -> None:
        if len(result.conditions) > 1:
            self.query_one("#stats", StatsTable).show(result.compare())
        lines = [str(h) for h in result.hypotheses]
        verdicts = self.query_one("#verdicts", Static)
        verdicts.update(Text("\n".join(f"hypothesis: {line}" for line in lines)) if lines else "")

    def _show_stored(self, result: Result) -> None:
        self.sub_title = f"run {result.run_id} · {result.status} · seed {result.seed}"
        conditions = list(result.conditions)
        self._filters = [None, *conditions]
        progress = self.query_one("#progress", ProgressTable)
        events = []
        for rep in result.replicate_results:
            if rep.ok:
                events.append(ev.ReplicateFinished(result.run_id, rep.treatment, rep.replicate, 0.0,
                                                   rep.seed, rep.duration, rep.metrics))
            else:
                events.append(ev.ReplicateFailed(result.run_id, rep.treatment, rep.replicate, 0.0,
                                                 rep.seed, rep.duration, rep.error or "",
                                                 rep.traceback or ""))
        progress.setup(conditions, result.replicates, {}, 0.0)
        for event in events:
            progress.count(event)
        replicates = self.query_one("#replicates", ReplicateTable)
        replicates.add_replicates(events, throttle=True)
        replicates.catch_up()
        progress.ended_at = result.duration
        progress.refresh_cells(result.duration)
        self.finished = events
        store = getattr(self.experiment, "store", None)
        if store is not None:
            logged = store.events(result.run_id, limit=2000)
            self.query_one("#output", OutputLog).add([
                (e["treatment"] or "", f"[{e['treatment']} #{e['replicate']}] "
                 + (e.get("text", "") if e["kind"] == "output"
                    else f"▸ {e.get('event')} {e.get('data')}"))
                for e in logged
            ])
        self._show_final(result)
        self._set_status(f"stored run {result.run_id}: {result.status}", "green"
                         if result.status == "completed" else "yellow")

    def _set_status(self, text: str, style: str = "") -> None:
        self.query_one("#run-status", Static).update(Text(text, style=style))

    # -- actions ------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        if not self.running:
            self.app.notify("no run in progress on this screen", timeout=3)
            return
        self.cancelling = True
        self.experiment.cancel()
        self._set_status("cancelling… no new replicate starts; finished ones are kept", "yellow")

    def action_filter_output(self) -> None:
        log = self.query_one("#output", OutputLog)
        i = self._filters.index(log.filter) if log.filter in self._filters else 0
        log.set_filter(self._filters[(i + 1) % len(self._filters)])

    def action_rerun(self) -> None:
        if self.running:
            self.app.notify("the run is still going; cancel it first (c)", timeout=3)
            return
        if not self.live:
            self.app.notify("this is a stored run; launch from the experiments screen", timeout=3)
            return
        resume = self.result is not None and self.result.status in ("cancelled", "failed")
        for widget in ("#replicates", "#stats"):
            self.query_one(widget).clear()
        self.finished = []
        self._pending_rows = []
        self.query_one("#verdicts", Static).update("")
        self.start_run(resume=resume)

    def action_debug(self) -> None:
        picked = self.query_one("#replicates", ReplicateTable).selected()
        treatment, replicate = picked if picked else ("baseline", 0)
        self.app.action_debug_condition(self.experiment, treatment, replicate)

    @on(ReplicateTable.RowSelected, "#replicates")
    def _row_chosen(self) -> None:
        self.action_show_error()

    def action_show_error(self) -> None:
        error = self.query_one("#replicates", ReplicateTable).selected_error()
        if error is not None:
            from .dialogs import ErrorScreen

            self.app.push_screen(ErrorScreen(error[0], error[1]))

    def action_history(self) -> None:
        self.app.action_open_history(self.experiment)

    def action_diff(self) -> None:
        self.app.action_open_diff(self.experiment)

    def action_back(self) -> None:
        self.app.pop_screen()
