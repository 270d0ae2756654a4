"""The run screen: progress, live output, per-replicate metrics and live statistics.

A run launched here runs in a process of its own (core/run_process.py): this screen's worker
thread starts it and feeds its events into the RunBridge, so a step that segfaults, exits or
hangs takes down only that process, and leaving the screen or the app leaves it going. A
chained experiment whose producers are stale runs as one chain process (``run --with-upstream``,
core/chain_process.py): each producer's run shows on a screen of its own that the consumer's
reader feeds, and quitting the app leaves the whole chain going."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static

from ...core import events as ev
from ...core.chain_process import ChainStopped, UpstreamEnded, UpstreamStarting, upstream_failure
from ...core.result import Result
from ...core.run_process import RunDied, RunEnded, RunErrored, RunProcess, RunRefused
from ...core.stopping import is_stopped
from ...watch.footnotes import anytime_footnotes
from ...watch.live_stats import (
    LiveStatistics,
    anytime_family,
    anytime_rows,
    result_bounds,
    stop_lines,
)
from ..bridge import RunBridge
from ..messages import ResumeWasRefused, RunCompleted, RunCrashed, StatsComputed
from ..upstream import (
    ChainWasStopped,
    UpstreamNeeded,
    UpstreamRunEnded,
    UpstreamStale,
    question,
    stale_upstream,
)
from ..widgets.chart_pane import ChartsPane
from ..widgets.footer import KeyFooter
from ..widgets.output import MAX_LINES as OUTPUT_LINES
from ..widgets.output import OutputLog
from ..widgets.tables import ProgressTable, RateSparkline, ReplicateTable, StatsTable, clock
from .charts import CHART_ACTIONS, CHART_BINDINGS, RunCharts
from .confirming import ConfirmationReport
from .dialogs import ConfirmScreen
from .pair_view import BASELINE_TITLE, PAIR_ACTIONS, PairView

DRAIN_INTERVAL = 1 / 15  # how often the UI takes what the run produced
STATS_INTERVAL = 1.0  # live statistics are recomputed at most this often
ROWS_INTERVAL = 0.5  # replicate rows are added in batches this often (rows cost the UI most)
PROGRESS_INTERVAL = 0.25  # counts shown at most this often while replicates keep finishing


class RunScreen(PairView, ConfirmationReport, RunCharts, Screen):
    """One run, live (launched from here) or stored (opened from history)."""

    # Layouts in app.tcss: panes stack below 120 columns, progress over statistics below 160.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-medium"), (160, "-wide")]

    # Keys that do not apply to the run as it stands are hidden (check_action); "r" is
    # Resume after a cancel or failed replicates, else Run again.
    BINDINGS = [
        Binding("c", "cancel_run", "Cancel", tooltip="Stop the run: no new replicate starts"),
        Binding("s", "stop_at_look", "Stop here",
                tooltip="Stop at the current look: no new replicate starts, running ones "
                        "finish and are kept; the run reads 'stopped: at look' with its "
                        "anytime-valid rows there"),
        Binding("f", "filter_output", "Filter", tooltip="Show output of one condition (cycles)"),
        Binding("d", "debug", "Debug", tooltip="Run one replicate of the selected condition"),
        Binding("r", "resume", "Resume",
                tooltip="Continue this run: finished replicates are kept, the rest run"),
        Binding("r", "run_again", "Run again",
                tooltip="A new run with the same options (replicates, treatments, seed, "
                        "workers, overrides)"),
        Binding("F", "force_resume", "Resume anyway",
                tooltip="Continue the run although the experiment changed since it ran"),
        Binding("h", "history", "History"),
        Binding("D", "diff", "Diff"),
        Binding("p", "compare_pair", "Pair",
                tooltip="Any two conditions (treatment vs treatment too), corrected across "
                        "treatments or across every metric of the table"),
        Binding("b", "vs_baseline", "vs baseline"),
        Binding("escape", "back", "Back"),
        *CHART_BINDINGS,
    ]
    # Whole names in the command palette where the footer's word is short (80 columns).
    PALETTE_TITLES = {"compare_pair": "Compare two conditions",
                      "vs_baseline": "Back to treatment vs baseline"}

    def __init__(self, experiment: Any, *, options: dict[str, Any] | None = None,
                 stored: Result | None = None, name: str | None = None,
                 choices: dict[str, Any] | None = None, resume: bool = False,
                 upstream_for: RunScreen | None = None, fed: RunBridge | None = None) -> None:
        super().__init__(name=name)
        # A producer run before a chained experiment: the consumer's screen, told when it ends.
        self.upstream_for = upstream_for
        self._tell_consumer = upstream_for is not None  # once: a run again here is its own
        self.waiting_on: RunScreen | None = None  # a consumer's: the producer running first
        self._upstream_runs: list[str] = []  # "chain_data run ID" each producer run first
        # A producer's run in its consumer's chain process: the consumer's reader feeds this
        # bridge, and this screen starts no process (a resume or run again here does).
        self.chain_fed = fed is not None
        self._chain_note: tuple[str, str] | None = None  # said once its run's end is shown
        self.chain_stopped = False  # a consumer's: its chain stopped before it started
        self._resume_into: RunScreen | None = None  # a producer's screen r resumed the chain on
        self._resume_first = resume  # the first run on this screen resumes the latest one
        self.experiment = experiment
        self.options = dict(options or {})
        self.choices = dict(choices or {})  # as launched (workers, not plugins): to run again
        # Titled from the start, not at mount: a fast chain's producer screen may give way to
        # its consumer's before it has mounted, and what it names must already be right.
        self.title = self._own_title()
        self.refused: Any = None  # the ResumeRefused of the last resume, until acted upon
        self.ended = False  # the last run on this screen ended (completed, crashed or refused)
        self._clear_on_start = False
        self.stored = stored
        self.bridge = fed if fed is not None else RunBridge()
        self.live = stored is None
        self.running = self.chain_fed
        self.cancelling = False
        self.process: RunProcess | None = None  # the run process of the last run started here
        self.died: RunDied | None = None  # how it died, when it did (r resumes)
        self._detached = False  # the app is going: a run starting now is left to itself
        self.result: Result | None = stored
        self.finished: list[Any] = []
        self.started: ev.RunStarted | None = None
        self._stats_dirty = False
        self._filters: list[str | None] = [None]
        self._pending_rows: list[Any] = []
        self._stats_at = 0.0
        self._stats_cost = 0.0
        self._progress_at = 0.0  # when the counts were last shown
        self._counts_shown = True  # False: replicates finished since (held back a moment)
        # The live anytime-valid feed: fed the replicates not yet in it (O(new) per refresh).
        self._live: LiveStatistics | None = None
        self._fed = 0
        self._live_lock = threading.Lock()

    # -- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-top"):
            with Vertical(id="progress-pane", classes="pane"):
                yield Static(id="run-status")
                yield ProgressTable(id="progress")
                yield RateSparkline("#progress", id="rate")
            with Vertical(id="stats-pane", classes="pane"):
                yield StatsTable(id="stats")
                yield Static(id="verdicts")
        with Horizontal(id="run-bottom"):
            yield OutputLog(id="output", classes="pane")
            yield ChartsPane(id="charts", classes="pane")
            yield ReplicateTable(id="replicates", classes="pane")
        yield KeyFooter()

    def _own_title(self) -> str:
        title = self.experiment.name
        if self.options.get("confirm"):  # launched from the confirm dialog
            title += " · confirmatory"
        if self.upstream_for is not None:  # which run is which, while the chain goes
            title += f" · upstream of {self.upstream_for.experiment.name}"
        return title

    def on_mount(self) -> None:
        self.title = self._own_title()
        self.query_one("#progress-pane").border_title = "progress"
        self.query_one("#stats-pane").border_title = BASELINE_TITLE
        self.query_one("#output", OutputLog).border_title = "output · all conditions"
        self.query_one("#replicates").border_title = "replicates (enter: every figure, or the error)"
        if self.stored is not None:
            self._show_stored(self.stored)
            return
        self.set_interval(DRAIN_INTERVAL, self.drain)
        self.set_interval(ROWS_INTERVAL, self.flush_rows)
        self.set_interval(STATS_INTERVAL, self.refresh_stats)
        if self.chain_fed:  # the chain's process runs it: this screen only shows it
            self._set_status(f"starting in the chain's process · then "
                             f"{self.upstream_for.experiment.name}")
            self.app.preload_statistics()
            return
        self.start_run(**({"resume": True} if self._resume_first else {}))

    # -- the run ------------------------------------------------------------------
    def start_run(self, upstream: bool | None = None, **extra: Any) -> None:
        if self.chain_fed:  # a resume or run again on a producer's screen: a run process of its own
            self.chain_fed = False
            self.bridge = RunBridge()
        self.running = True
        self.cancelling = False
        self.ended = False
        self.refused = None
        self.died = None
        self.process = None
        self._upstream_runs = []
        if self.pair_shown is not None:  # a new run on this screen: its table is vs baseline
            self.pair_shown = None
            self.query_one("#stats-pane").border_title = BASELINE_TITLE
        self.confirmation_lines = []
        self._set_status("starting…")
        self.refresh_bindings()
        self.app.preload_statistics()  # scipy, before the first live statistics are due
        if self.stored is None:
            # A resume or a run again here runs today's files, as the home screen would.
            self.experiment = self.app.current_experiment(self.experiment)
        self.chain_stopped = False
        self.execute(dict(self.options, **extra), upstream=upstream)

    def resume_chain(self, producer: RunScreen) -> None:
        """``r`` on the screen of a producer whose run stopped this chain: one chain process
        again, continuing that producer's run (finished replicates kept), then this run."""
        self._resume_into = producer
        self.start_run(upstream=True, resume_upstream=True)

    def feed(self, bridge: RunBridge) -> None:
        """This producer's screen shows its run again, resumed in the consumer's chain process."""
        self.bridge, self.chain_fed = bridge, True
        self.running, self.ended, self.cancelling = True, False, False
        self.result = self.died = None
        self._clear_on_start = True  # the resumed run's tables, from its RunStarted on
        self._tell_consumer = False
        self.refresh_bindings()
        self._set_status(f"resuming in the chain's process · then {self.upstream_for.experiment.name}")

    @work(thread=True, exit_on_error=False, group="runs")
    def execute(self, options: dict[str, Any], upstream: bool | None = None) -> None:
        """Start the run process and supervise it: its events go to the bridge, its end
        (or its death) to the screen as a message. A chained experiment's stale producers
        are offered first (``upstream`` None: ask; True: one chain process runs them,
        producers first, then this run; each producer's events go to a run screen of its
        own). A producer's own screen does not ask."""
        workspace = self.app.workspace
        try:
            if upstream is None and not options.get("resume") and self.upstream_for is None:
                stale = stale_upstream(workspace, self.experiment)
                if stale:
                    self.post_message(UpstreamStale(stale, options))
                    return
            if upstream:
                options = dict(options, with_upstream=True)
            process = RunProcess.launch(workspace.root, workspace.store, self.experiment.name,
                                        options)
        except Exception as exc:  # no store, bad options, no fork: say so, keep the app
            self.post_message(RunCrashed(f"{type(exc).__name__}: {exc}"))
            return
        self.process = process
        if self.cancelling:  # c was pressed while it started
            process.cancel()
        if self._detached:  # the app quit while it started: its reader must not hold the exit
            process.detach()
        bridge = self.bridge
        producer: RunBridge | None = None  # a chain's producer run going: its screen's bridge
        for batch in process.batches():
            for message in batch:
                if isinstance(message, ev.Event):
                    (producer or bridge)(message)
                elif isinstance(message, UpstreamStarting):
                    try:
                        found = workspace.experiment(message.experiment)
                    except Exception:  # noqa: BLE001 - changed since the chain's process loaded it
                        found = SimpleNamespace(name=message.experiment, store=workspace.store)
                    producer = RunBridge()
                    self.post_message(UpstreamNeeded(found, message.why, producer))
                elif isinstance(message, UpstreamEnded):
                    producer = None
                    self.post_message(UpstreamRunEnded(message.result))
                elif isinstance(message, ChainStopped):
                    self.post_message(ChainWasStopped(message.producer, message.run_id, message.why))
                elif isinstance(message, RunEnded):
                    self.post_message(RunCompleted(message.result))
                elif isinstance(message, RunRefused):  # say what changed, offer the ways on
                    self.post_message(ResumeWasRefused(message.error()))
                elif producer is not None and isinstance(message, (RunErrored, RunDied)):
                    # The chain's process failed in a producer's run: its screen says how.
                    error = (message.describe() if isinstance(message, RunDied)
                             else message.error)
                    self.post_message(UpstreamRunEnded(None, error))
                elif isinstance(message, RunErrored):  # a plugin or the store failed
                    self.post_message(RunCrashed(message.error))
                elif isinstance(message, RunDied):
                    self.post_message(RunCrashed(message.describe(), died=message))

    @on(UpstreamStale)
    def _upstream_stale(self, message: UpstreamStale) -> None:
        self._set_status("waiting: " + "; ".join(f"{name} {why}" for name, why in message.stale))

        def answered(run_first: bool | None) -> None:
            self.execute(message.options, upstream=bool(run_first))

        self.app.push_screen(ConfirmScreen(question(self.experiment.name, message.stale)), answered)

    @on(UpstreamNeeded)
    def _upstream_needed(self, message: UpstreamNeeded) -> None:
        name = message.producer.name
        reused, self._resume_into = self._resume_into, None
        if reused is not None and reused.experiment.name == name:  # r there: it shows the resume
            producer = self.waiting_on = reused
            reused.feed(message.bridge)
        else:
            producer = self.waiting_on = RunScreen(message.producer, upstream_for=self,
                                                   fed=message.bridge)
        producer.process = self.process  # c there asks the chain's process
        producer.cancelling = self.cancelling
        self._set_status(f"running upstream {name} first ({message.why}) on its own run screen "
                         f"· then {self.experiment.name}", "cyan")
        self.refresh_bindings()
        if producer is reused:
            if producer not in self.app.run_screens:
                self.app.run_screens.append(producer)
            if self.app.screen is not producer:
                self.app.push_screen(producer)
            return
        self.app.open_run_screen(producer)

    @on(UpstreamRunEnded)
    def _upstream_run_ended(self, message: UpstreamRunEnded) -> None:
        producer = self.waiting_on
        if producer is None:
            return
        # The producer's screen shows its end as its own run's; this screen goes on at once
        # (the consumer's run may end before that screen has taken its message).
        producer._tell_consumer = False
        if message.result is not None:
            producer.post_message(RunCompleted(message.result))
        else:
            producer.post_message(RunCrashed(message.error))
        self.upstream_ended(producer, message.result, message.error)

    @on(ChainWasStopped)
    def _chain_was_stopped(self, message: ChainWasStopped) -> None:
        self._chain_stopped(message.producer, message.why)

    def upstream_ended(self, producer: RunScreen, result: Result | None, error: str = "") -> None:
        """The producer run on ``producer``'s screen ended: with ``result``, or dead with
        ``error``. Completed: the chain's process goes on (the next producer, or this run);
        else the chain stops."""
        self.waiting_on = None
        name = producer.experiment.name
        why = error if result is None else upstream_failure(result)
        if why is not None:
            self._chain_stopped(name, why)
            producer.say_chain_stopped(self.experiment.name)
            return
        self.refresh_bindings()
        self._upstream_runs.append(f"{name} run {result.run_id}")
        if self.cancelling:  # asked between two runs: the chain's process says it stopped
            self._set_status(f"upstream {name} run {result.run_id} completed · cancelling the "
                             f"chain: {self.experiment.name} will not start", "yellow")
            return
        self._set_status(f"upstream {name} run {result.run_id} completed · starting "
                         f"{self.experiment.name}", "cyan")
        if self.app.screen is producer:  # the consumer's turn: show its screen
            self.app.pop_screen()
        else:  # the user looks elsewhere: the producer's screen says where the chain went
            producer.say_chain_went_on(self.experiment.name)

    def _chain_stopped(self, producer: str, why: str) -> None:
        """Say once that the consumer did not start (the producer's end and the chain's
        process's last message may both say so)."""
        self.waiting_on = None
        if self.ended:
            return
        self.chain_stopped = True
        self.running = False
        self.ended = True
        self.refresh_bindings()
        text = f"upstream {producer} {why}: {self.experiment.name} did not start"
        self._set_status(text, "yellow")
        self.app.notify(text, title="chain stopped", severity="warning", timeout=8)

    def say_chain_went_on(self, consumer: str) -> None:
        """A producer's screen, once its run completed: the consumer's run has started."""
        self._say_after_end((f"{consumer} started on its own screen", "green"))

    def say_chain_stopped(self, consumer: str) -> None:
        """A producer's screen, once its run ended short: the consumer will not start."""
        self._say_after_end((f"{consumer} did not start", "yellow"))

    def _say_after_end(self, note: tuple[str, str] | None = None) -> None:
        """Add ``note`` to the status line once this screen has shown its run's end: the
        consumer hears of a chain's producer run before its screen does."""
        if note is not None:
            self._chain_note = note
        if self._chain_note is None or not self.ended or not self.is_mounted:
            return
        (text, style), self._chain_note = self._chain_note, None
        said = str(self.query_one("#run-status", Static).content)
        self._set_status(f"{said} · {text}", style)

    def drain(self, final: bool = False) -> None:
        """Take what the run produced since the last look. The output panel takes every
        drain's lines; the counts (progress table, status line) are shown at most every
        PROGRESS_INTERVAL while replicates keep finishing, and always at the end (``final``)."""
        if not self.is_attached or not self.query("#progress"):
            return  # the timer can fire once more while the app shuts the screen down
        batch = self.bridge.drain()
        now = time.monotonic()
        if not batch:
            self._show_counts(now)  # the clock, and counts held back by the last drain
            return
        progress = self.query_one("#progress", ProgressTable)
        if batch.started is not None:
            self._on_started(batch.started)
            self._counts_shown = False  # "starting…" gives way to the counts
        if batch.lines:
            self.query_one("#output", OutputLog).add(batch.lines)
        if batch.ended is not None:
            self._stop_clock(batch.ended.duration)
        if batch.finished:
            for event in batch.finished:
                progress.count(event)
            self._pending_rows.extend(batch.finished)
            self.finished.extend(batch.finished)
            self._stats_dirty = True
            self._counts_shown = False
        # A changed count redraws the whole progress table (Textual re-renders every cell
        # of a DataTable on any change) and the status line lays the screen out again: at
        # 15 Hz with short replicates that was a quarter of the UI thread's frames.
        if (final or batch.started or batch.ended
                or now - self._progress_at >= PROGRESS_INTERVAL):
            self._show_counts(now)

    def _show_counts(self, now: float) -> None:
        progress = self.query_one("#progress", ProgressTable)
        progress.refresh_cells(now)  # only cells whose text changed (the clock: once a second)
        if self._counts_shown:
            return
        self._counts_shown = True
        self._progress_at = now
        if self.running and not self.cancelling:
            self._set_status(f"running · {progress.finished_count} of "
                             f"{progress.total * len(progress.conditions)} replicates")

    def _on_started(self, started: ev.RunStarted) -> None:
        if self._clear_on_start:  # run again / resume on this screen: the old tables go now
            self._clear_on_start = False
            for widget in ("#replicates", "#stats"):
                self.query_one(widget).clear()
            self.finished = []
            self._pending_rows = []
            self.query_one("#verdicts", Static).update("")
        if self.choices:
            self.app.run_choices[started.run_id] = dict(self.choices)
        self.result = None  # a new run on this screen: the last one's result is history
        self.started = started
        with self._live_lock:
            self._live, self._fed = None, 0  # the next refresh starts the feed for this run
        resumed = " · resumed" if started.done_before else ""
        self.sub_title = f"run {started.run_id} · seed {started.seed}{resumed}"
        self._filters = [None, *started.conditions]
        progress = self.query_one("#progress", ProgressTable)
        progress.ended_at = None  # a resume on this screen: the clock of the last attempt ran out
        # The clock starts when the run did (the event's time), not when the UI looked.
        progress.setup(list(started.conditions), started.replicates, started.done_before,
                       started.time)
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
        # Even incremental, the update competes with the run for the GIL: at most ~10%.
        if time.monotonic() - self._stats_at < 10 * self._stats_cost:
            return
        self._stats_dirty = False
        self._stats_at = time.monotonic()
        s = self.started
        if len(s.conditions) > 1:
            self.update_anytime(s, list(self.finished))

    # A fixed description: by default Textual describes a worker by repr() of its arguments,
    # on the UI thread: every finished replicate of the run, each refresh (20 ms at 6,000).
    @work(thread=True, exclusive=True, group="anytime", exit_on_error=False,
          description="live statistics")
    def update_anytime(self, started: ev.RunStarted, finished: list[Any]) -> None:
        """The anytime-valid rows: the feed takes only the replicates new since the last look."""
        began = time.perf_counter()
        with self._live_lock:
            live = self._live
            if live is None or self._fed > len(finished):  # a new run (or one re-read) here
                rule = getattr(self.experiment, "stop_rule", None)  # decide as the run's rule does
                live = self._live = LiveStatistics(started.experiment, started.conditions,
                                                   started.seed, getattr(rule, "correction", None),
                                                   getattr(self.experiment, "hypotheses", None),
                                                   getattr(self.experiment, "metric_bounds", None))
                self._fed = 0
            live.add(finished[self._fed:])
            self._fed = len(finished)
            now = live.anytime()
        self._stats_cost = time.perf_counter() - began
        self.post_message(StatsComputed(now.rows, now.replicates, now.note, anytime=True))

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False,
          description="statistics of an interrupted run")
    def compute_stats(self, started: ev.RunStarted, finished: list[Any], died: bool = False) -> None:
        """scipy off the UI thread: a large run's comparison takes a while. ``died``: the
        last table of a run whose process died (it stands, with a note saying so)."""
        # The first time, this waits for scipy's import (preloaded since the run started);
        # it is not part of the comparison's cost, which paces the next recomputation.
        import crystallize_tui.stats  # noqa: F401

        live = LiveStatistics(started.experiment, started.conditions, started.seed)
        table = live.compute(finished)
        self._stats_cost = table.cost_s
        note = table.note
        if died:
            note = (f"interrupted: {table.replicates} replicate(s) done in every condition · "
                    "incomplete, not a verdict")
        self.post_message(StatsComputed(table.comparison, table.replicates, note, died))

    @on(StatsComputed)
    def _stats_computed(self, message: StatsComputed) -> None:
        # The final table, once shown, is not replaced by a late live one; a dead run's
        # last table is shown over every replicate it finished.
        if not (self.running or (message.died and self.died is not None)):
            return
        if message.anytime:
            self.query_one("#stats", StatsTable).show_anytime(message.table, note=message.note,
                                                              rounds=message.replicates)
        else:
            self.query_one("#stats", StatsTable).show(message.table, note=message.note)

    @on(RunCompleted)
    def _completed(self, message: RunCompleted) -> None:
        self.drain(final=True)
        self.flush_rows(final=True)
        self.running = False
        self.query_one("#output", OutputLog).mark_ended()
        self.ended = True
        self.refresh_bindings()
        result = self.result = message.result
        duration = self._recorded_duration(result)
        self._stop_clock(duration)
        self._show_final(result)
        self.report_confirmation(result)  # a confirmatory run's report, when it is one
        self.show_series(result)
        self._stats_dirty = False  # the final table stands; no live recomputation after it
        self.app.refresh_home()
        if result.status == "cancelled":
            self._set_status(f"cancelled · {len(result.replicate_results)} finished replicates "
                             "kept in the store · r resumes", "yellow")
        elif is_stopped(result.status):
            where = (result.stop or {}).get("stopping_replicate")
            self._set_status(f"{result.status} at replicate {where} in {clock(duration)} · "
                             f"run {result.run_id}", "green")
        elif result.status == "failed":
            self._set_status(f"finished with {len(result.errors)} failed replicate(s) in "
                             f"{clock(duration)} · enter on a failed row shows its error",
                             "red")
        else:
            after = "".join(f" · after upstream {made}" for made in self._upstream_runs)
            self._set_status(f"completed in {clock(duration)} · run {result.run_id}{after}",
                             "green")
        self._upstream_done(result)

    def _upstream_done(self, result: Result | None, error: str = "") -> None:
        """A producer run before its consumer: tell the consumer's screen it ended (a
        chain's consumer knows already: then only what it said is added here)."""
        self._say_after_end()
        if self._tell_consumer and self.upstream_for is not None:
            self._tell_consumer = False
            self.upstream_for.upstream_ended(self, result, error)

    @on(RunCrashed)
    def _crashed(self, message: RunCrashed) -> None:
        self.drain(final=True)
        self.flush_rows(final=True)
        self.running = False
        output = self.query_one("#output", OutputLog)
        self.ended = True
        self._stop_clock(None)
        died = self.died = message.died
        if died is None:
            output.mark_ended()
            self.refresh_bindings()
            self._set_status(f"stopped: {message.error}", "bold red")
            self.app.notify(message.error, title="run failed", severity="error", timeout=10)
            self._upstream_done(None, f"did not run: {message.error}")
            return
        # The process's own last words (faulthandler's traceback names the step's line).
        output.add([("", f"── {died.describe()}; its last output ──"),
                    *(("", line) for line in died.log_tail)])
        output.mark_ended()
        self.refresh_bindings()
        kept = self.query_one("#progress", ProgressTable).finished_count
        self._set_status(f"{died.describe()}; {kept} finished replicates kept · r resumes",
                         "bold red")
        self.app.notify(died.describe(), title="run process died", severity="error", timeout=10)
        self._upstream_done(None, f"stopped: {died.describe()}")
        if self.started is not None and len(self.started.conditions) > 1 and self.finished:
            self.compute_stats(self.started, list(self.finished), died=True)
        self.app.refresh_home()  # it reads interrupted now

    @on(ResumeWasRefused)
    def _refused(self, message: ResumeWasRefused) -> None:
        self.drain(final=True)
        self.running = False
        self.ended = True
        self._clear_on_start = False  # nothing ran: the last run's tables stay
        refused = self.refused = message.error
        status = Text(f"resume refused: the experiment changed since run {refused.run_id} ran\n",
                      style="bold yellow")
        for change in refused.changes:
            status.append(f"  - {change}\n", style="yellow")
        status.append("F resumes anyway (finished replicates are kept; the rest run with "
                      "today's config and code) · r starts a new run with the same options")
        self.query_one("#run-status", Static).update(status)
        self.refresh_bindings()
        self.app.notify("the experiment changed since it ran: F resumes anyway, r starts a "
                        "new run", title="resume refused", severity="warning", timeout=8)

    def _recorded_duration(self, result: Result) -> float:
        """The run's elapsed as the store has it (what its stored view and History show),
        so the live screen ends on the same figure; a resumed run keeps this attempt's."""
        store = getattr(self.experiment, "store", None)
        if store is None or self.started is None or self.started.done_before:
            return result.duration
        try:
            row = store.run_row(result.run_id)
        except Exception:  # the store went away: the run's own measure
            return result.duration
        if row.get("finished_at") is None:
            return result.duration
        return float(row["finished_at"]) - float(row["started_at"])

    def _stop_clock(self, duration: float | None) -> None:
        """Stop elapsed and ETA: at the run's own duration (what the store and the status
        line say), or now when the run died without one."""
        progress = self.query_one("#progress", ProgressTable)
        if progress.started_at is None or (progress.ended_at is not None and duration is None):
            return  # it never started, or it stopped already
        progress.ended_at = (progress.started_at + duration if duration is not None
                             else time.monotonic())
        progress.refresh_cells(progress.ended_at)

    def _show_final(self, result: Result) -> None:
        lines = []
        stop = result.stop
        if not result.complete:  # cancelled: compare only what ran on both sides of a pair
            result = result.ran_in_every_condition()
            lines.append(f"{result.status}: statistics over the {result.replicates} "
                         "replicate(s) that ran in every condition")
        table = result.compare() if len(result.conditions) > 1 else None
        if table is not None:
            # The fixed-n tests beside the anytime result (at the stopping point of a run
            # that had a stop rule).
            anytime = stop["rows"] if stop else anytime_rows(result)
            # Each anytime cell marked, what it assumes in a footnote under the table.
            marks, footnotes = anytime_footnotes(anytime, result_bounds(result))
            self.query_one("#stats", StatsTable).show(table, anytime=anytime, marks=marks)
        if stop:
            lines += stop_lines(stop)  # they name the rule's correction
        elif table is not None:
            lines.append(f"anytime column: {anytime_family(result, anytime)}")
        if table is not None:
            lines += footnotes
        lines += [f"hypothesis: {h}" for h in result.hypotheses]
        # What pairing by seed means, one-sided tests, unadjusted intervals (issue 9.37).
        lines += table.footnotes(compact=True) if table is not None else []
        lines += [f"{r.metric} / {r.treatment}: {r.note}" for r in table or [] if r.note]
        verdicts = self.query_one("#verdicts", Static)
        verdicts.update(Text("\n".join(lines)) if lines else "")

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
        self.show_series(result)
        store = getattr(self.experiment, "store", None)
        if store is not None:
            self.query_one("#output", OutputLog).add_stored(
                store.events(result.run_id, limit=OUTPUT_LINES + 1),
                [(r.treatment, r.replicate, r.error or "") for r in result.replicate_results
                 if not r.ok])
        self._show_final(result)
        self.report_confirmation(result)
        resumes = 0
        if store is not None:
            try:
                resumes = int(store.run_row(result.run_id).get("resumes") or 0)
            except Exception:  # an older store without the column: no note
                resumes = 0
        # A resumed run's elapsed spans its first start to its last finish, pauses included.
        span = f" · resumed {resumes}×: elapsed runs from its first start" if resumes else ""
        self._set_status(f"stored run {result.run_id}: {result.status} in {clock(result.duration)}"
                         f"{span}", "green" if result.status == "completed" else "yellow")

    def _set_status(self, text: str, style: str = "") -> None:
        # A span, not Text(style=...): Textual maps a span's "green" through the theme's
        # readable palette, but a whole Text's style to the fixed CSS green (3.7:1).
        self.query_one("#run-status", Static).update(Text.assemble((text, style)))

    # -- actions ------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        if not self.running:
            self.app.notify("no run in progress on this screen", timeout=3)
            return
        self.cancelling = True
        producer = self.waiting_on
        if producer is not None:  # a producer runs first: cancelling it stops the chain
            if not producer.cancelling:
                producer.action_cancel_run()
            self._set_status(f"cancelling upstream {producer.experiment.name}… "
                             f"{self.experiment.name} will not start", "yellow")
            return
        self._request_cancel()
        self._set_status("cancelling… no new replicate starts; finished ones are kept", "yellow")

    def action_stop_at_look(self) -> None:
        if not self.running:
            self.app.notify("no run in progress on this screen", timeout=3)
            return
        started, process = self.started, self.process
        if started is None or (process is not None
                               and started.run_id not in (process.run_id, process.current_run_id)):
            # The stop is asked through the run's row in the store, there once it started.
            self.app.notify("the run is still starting: s again once it runs", timeout=3)
            return
        self.cancelling = True  # the status line keeps saying it is stopping
        self._request_stop(started.run_id)
        self._set_status("stopping at this look… no new replicate starts; running ones finish "
                         "and are kept", "yellow")

    @work(thread=True, group="cancel", exit_on_error=False)
    def _request_stop(self, run_id: str) -> None:
        """Mark the stop in the store (off the UI thread): the run's process polls it and
        starts no new replicate; running ones finish and are kept (not a cancel)."""
        store = self.process.store if self.process is not None else self.experiment.store
        try:
            store.request_stop(run_id)
        except Exception as exc:  # noqa: BLE001 - a busy or vanished store: say so
            self.app.call_from_thread(self.app.notify, str(exc), title="cannot stop",
                                      severity="error", timeout=8)

    @work(thread=True, group="cancel", exit_on_error=False)
    def _request_cancel(self) -> None:
        """The cross-process request (a store write: off the UI thread); the run process is
        terminated if it has not stopped after the grace period (a step that hangs)."""
        if self.process is not None:
            self.process.cancel()

    def detach(self) -> None:
        """Stop following the run: it goes on in its process (the app quits, say)."""
        self._detached = True
        if self.process is not None:
            self.process.detach()

    def action_filter_output(self) -> None:
        log = self.query_one("#output", OutputLog)
        i = self._filters.index(log.filter) if log.filter in self._filters else 0
        log.set_filter(self._filters[(i + 1) % len(self._filters)])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PAIR_ACTIONS:
            return self.pair_action_allowed(action)
        if action in CHART_ACTIONS:
            return self.charts_check(action)
        if action == "stop_at_look" and self.waiting_on is not None:
            return False  # a producer runs first: c cancels the chain, nothing to stop here
        if action in ("cancel_run", "stop_at_look"):
            return self.live and self.running
        if action == "resume":
            return self._resumable()
        if action == "force_resume":
            return self.refused is not None and not self.running
        if action == "run_again":
            return not self.running and not self._resumable() and (not self.live or self.ended)
        return True

    def _resumable(self) -> bool:
        """A cancelled run, one with failed replicates, or one whose process died, launched
        here and not refused."""
        return (self.live and not self.running and self.refused is None
                and (self.died is not None or self.result is not None
                     and self.result.status in ("cancelled", "failed")))

    def action_resume(self) -> None:
        consumer = self.upstream_for
        if consumer is not None and consumer.chain_stopped and not consumer.running:
            consumer.resume_chain(self)  # the chain this run stopped goes on from here
            return
        self._clear_on_start = True
        self.start_run(resume=True)

    def action_force_resume(self) -> None:
        self._clear_on_start = True
        self.start_run(resume=True, force=True)

    def action_run_again(self) -> None:
        if not self.live and self.result is not None:  # a stored run: a new live screen
            self.app.run_again(self.experiment, self.result)
            return
        self._clear_on_start = True
        self.start_run()

    def action_debug(self) -> None:
        picked = self.query_one("#replicates", ReplicateTable).selected()
        treatment, replicate = picked if picked else ("baseline", 0)
        run_id = (self.result.run_id if self.result is not None
                  else self.started.run_id if self.started is not None else None)
        # The replicate as this run ran it: its overrides and seed, not the YAML's.
        self.app.action_debug_condition(self.experiment, treatment, replicate, run_id=run_id,
                                        overrides=self.options.get("overrides"),
                                        seed=self.options.get("seed"))

    @on(ReplicateTable.RowSelected, "#replicates")
    def _row_chosen(self) -> None:
        self.action_show_error()

    def action_show_error(self) -> None:
        picked = self.query_one("#replicates", ReplicateTable).selected()
        failed = next((e for e in reversed(self.finished) if isinstance(e, ev.ReplicateFailed)
                       and (e.treatment, e.replicate) == picked), None)
        if failed is not None:
            from .dialogs import ErrorScreen

            self.app.push_screen(ErrorScreen.for_replicate(
                failed.treatment or "", failed.replicate or 0, failed.seed, failed.error,
                failed.traceback))

    def action_history(self) -> None:
        self.app.action_open_history(self.experiment)

    def action_diff(self) -> None:
        self.app.action_open_diff(self.experiment)

    def action_back(self) -> None:
        self.app.pop_screen()
