"""The run screen attached to a run another process runs: its state, then its live tail."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from textual import events, on, work
from textual.message import Message

from ...core import events as ev
from ...core.stopping import is_stopped
from ...core.store.follow import POLL_S, RunFollower
from ...watch.format import stored_lines
from ...watch.live_stats import LiveAnytime, LiveStatistics, as_finished_event, stored_correction
from ..messages import RunCompleted, RunCrashed
from ..widgets.output import MAX_LINES as OUTPUT_LINES
from ..widgets.output import OutputLog
from ..widgets.stats_table import StatsTable
from ..widgets.tables import ProgressTable
from .charts import CHART_ACTIONS
from .pair_view import PAIR_ACTIONS
from .run import DRAIN_INTERVAL, ROWS_INTERVAL, STATS_INTERVAL, RunScreen


@dataclass
class RunPolled(Message):
    """One read of the attached run: what is new since the last read."""

    status: str
    started: ev.RunStarted | None  # the first read only
    finished: list[Any]  # ReplicateFinished / ReplicateFailed, newly committed
    lines: list[tuple[str, str]]  # (condition, text), new output lines
    # (ok, failed) per condition to add to the progress at once; ``finished`` is then not
    # counted again (a late watcher's first read: counts first, the rows after them).
    counts: dict[str, tuple[int, int]] | None = None
    # The anytime-valid rows over every replicate read so far, ``finished`` included:
    # computed in the tail's thread, shown with the progress they match (never a round behind).
    anytime: LiveAnytime | None = None


@dataclass
class RunInterrupted(Message):
    """The attached run's process is gone without ending the run (killed, crashed)."""

    status: str


@dataclass
class CancelAsked(Message):
    """The cross-process cancel request is in the store (or could not be written)."""

    error: str | None


def _beyond(reps: list[Any], shown: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """(ok, failed) per condition in ``reps`` beyond the ``shown`` counts: the replicates
    committed between the first count and the first read of the rows."""
    ok: dict[str, int] = {}
    failed: dict[str, int] = {}
    for r in reps:
        into = ok if r.ok else failed
        into[r.treatment] = into.get(r.treatment, 0) + 1
    return {c: (max(0, ok.get(c, 0) - shown.get(c, (0, 0))[0]),
                max(0, failed.get(c, 0) - shown.get(c, (0, 0))[1]))
            for c in set(ok) | set(failed)}


COMMIT_LAG_S = 5.0  # how long after it finished a replicate may still be committed


class AttachedRunScreen(RunScreen):
    """A live run of any process using the store (the CLI, --detach, another window).

    A worker thread tails the store with RunFollower and posts what is new; the screen
    only reads. Leaving it leaves the run going; ``c`` asks the run's process to cancel."""

    def __init__(self, experiment: Any, run_id: str) -> None:
        super().__init__(experiment)
        self.run_id = run_id
        self.live = False  # not launched here: r opens a new run, as for a stored one
        self.running = True
        self._leaving = threading.Event()
        self._state_shown = threading.Event()  # the first read is on screen
        self.interrupted = False  # its process died without ending it: r resumes it here

    def on_mount(self, event: events.Mount) -> None:
        # Textual also calls the base class's on_mount (it walks the MRO) unless told not
        # to: that one would start the run in this process.
        event.prevent_default()
        self.title = f"{self.experiment.name}"
        self.query_one("#progress-pane").border_title = "progress"
        self.query_one("#stats-pane").border_title = "treatment vs baseline"
        self.query_one("#output", OutputLog).border_title = "output · all conditions"
        self.query_one("#replicates").border_title = "replicates (enter: every figure, or the error)"
        self.sub_title = f"run {self.run_id} · attached"
        self._set_status("attaching…")
        self.set_interval(DRAIN_INTERVAL, self._tick)
        self.set_interval(ROWS_INTERVAL, self.flush_rows)
        self.set_interval(STATS_INTERVAL, self.refresh_stats)
        self.app.preload_statistics()
        self.follow()

    def on_unmount(self) -> None:
        self._leaving.set()  # the tail stops; the run goes on

    def _tick(self) -> None:
        if self.is_attached and self.query("#progress"):
            self.query_one("#progress", ProgressTable).refresh_cells(time.monotonic())

    # -- the tail (a thread: the store is never read on the UI thread) -------------------
    @work(thread=True, exclusive=True, group="attach", exit_on_error=False)
    def follow(self) -> None:
        store = self.experiment.store
        try:
            follower = RunFollower(store, self.run_id)
            row = store.run_row(self.run_id)
            snapshot = follower.poll(last=OUTPUT_LINES)
        except Exception as exc:  # noqa: BLE001 - a vanished run or a damaged store: say so
            self.post_message(RunCrashed(f"cannot attach to run {self.run_id}: {exc}"))
            return
        # The clock runs from the run's own start (wall time in the store, monotonic here).
        started_at = time.monotonic() - (time.time() - float(row["started_at"]))
        conditions = tuple(json.loads(row["conditions"]))
        started = ev.RunStarted(self.run_id, None, None, started_at, self.experiment.name,
                                conditions, int(row["replicates"]), int(row["base_seed"]),
                                int(row["replicates"]) * len(conditions))
        # A late watcher sees the progress and the last lines first (one aggregate read),
        # then every finished replicate (reading 100,000 of them takes a while).
        self.post_message(RunPolled(snapshot.status, started, [],
                                    [(line.condition, line.text) for line in
                                     stored_lines(snapshot.rows, snapshot.failures)],
                                    counts=snapshot.counts))
        shown_counts = snapshot.counts
        # The live anytime rows are fed here, from the replicates of each read (incremental,
        # O(new)), so each read's message carries the rows of exactly what it counts.
        live = (LiveStatistics(self.experiment.name, conditions, int(row["base_seed"]),
                               stored_correction(row.get("stop")), row.get("hypotheses"),
                               row.get("metric_bounds"))
                if len(conditions) > 1 else None)
        # Reading every row competes with the UI thread for the GIL: let it show the state first.
        self._state_shown.wait(1.0)
        snapshot.rows, snapshot.failures = [], []
        seen: set[tuple[str, int]] = set()
        counts: dict[str, tuple[int, int]] | None = None
        since: float | None = None  # all of them first, then only the recent ones
        first = True
        while True:
            reps = []
            if snapshot.counts != counts:  # the replicates are read only when some finished
                counts = snapshot.counts
                read_at = time.time()
                reps = [r for r in store.replicates(self.run_id, finished_since=since)
                        if (r.treatment, r.replicate) not in seen]
                seen.update((r.treatment, r.replicate) for r in reps)
                # A replicate is committed shortly after it finished (group commits, a
                # worker's result in transit): look that far back again; seen drops repeats.
                since = read_at - COMMIT_LAG_S
            lines = stored_lines(snapshot.rows, snapshot.failures)
            extra = _beyond(reps, shown_counts) if first else None  # committed meanwhile
            finished = [as_finished_event(self.run_id, r) for r in reps]
            anytime = None
            if live is not None and finished:
                live.add(finished)
                anytime = live.anytime()
            self.post_message(RunPolled(snapshot.status, None, finished,
                                        [(line.condition, line.text) for line in lines],
                                        counts=extra, anytime=anytime))
            first = False
            if not snapshot.running:
                break
            if self._leaving.wait(POLL_S):
                return
            snapshot = follower.poll()
        try:
            result = store.load(self.run_id)
        except Exception as exc:  # noqa: BLE001
            self.post_message(RunCrashed(f"run {self.run_id} ended ({snapshot.status}); "
                                         f"cannot load it: {exc}"))
            return
        self.post_message(RunCompleted(result))
        if snapshot.status not in ("completed", "failed", "cancelled") and not is_stopped(snapshot.status):
            self.post_message(RunInterrupted(snapshot.status))  # after the final tables

    @on(RunPolled)
    def _polled(self, message: RunPolled) -> None:
        progress = self.query_one("#progress", ProgressTable)
        if message.started is not None:
            self.started = message.started
            self._filters = [None, *message.started.conditions]
            progress.setup(list(message.started.conditions), message.started.replicates, {},
                           message.started.time)
            self.call_after_refresh(self._state_shown.set)
        if message.lines:
            self.query_one("#output", OutputLog).add(message.lines)
        if message.counts is not None:
            progress.add_counts(message.counts)
        else:
            for event in message.finished:
                progress.count(event)
        if message.finished:
            self._pending_rows.extend(message.finished)
            self.finished.extend(message.finished)
            self._stats_dirty = message.anytime is None
        progress.refresh_cells(time.monotonic())
        if message.anytime is not None and self.running and self.query("#stats"):
            now = message.anytime  # the same replicates the progress just counted
            self.query_one("#stats", StatsTable).show_anytime(now.rows, note=now.note,
                                                              rounds=now.replicates)
        if message.status == "running" and not self.cancelling:
            self._set_status(f"running in another process · {progress.finished_count} of "
                             f"{progress.total * len(progress.conditions)} replicates · "
                             "esc leaves it running")

    @on(RunInterrupted)
    def _interrupted(self, message: RunInterrupted) -> None:
        self.interrupted = True
        self.refresh_bindings()
        self._set_status(f"{message.status}: the run's process is gone · "
                         f"{len(self.finished)} finished replicates kept in the store · "
                         f"r resumes it here (or `crystallize run {self.experiment.name} "
                         "--resume`)", "bold red")

    # -- actions --------------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        if not self.running:
            self.app.notify("the run is not running any more", timeout=3)
            return
        self.cancelling = True
        self._set_status("cancelling… the run's process stops at its next cancellation "
                         "point; finished replicates are kept", "yellow")
        self.ask_cancel()

    def action_resume(self) -> None:
        """Continue the interrupted run in a run process of this window (a new run screen)."""
        self.app.resume_run(self.experiment, self.run_id)

    @work(thread=True, group="attach-cancel", exit_on_error=False)
    def ask_cancel(self) -> None:
        try:
            self.experiment.store.request_cancel(self.run_id)
        except Exception as exc:  # noqa: BLE001
            self.post_message(CancelAsked(str(exc)))
        else:
            self.post_message(CancelAsked(None))

    @on(CancelAsked)
    def _cancel_asked(self, message: CancelAsked) -> None:
        if message.error is not None:
            self.cancelling = False
            self.app.notify(message.error, title="cannot cancel", severity="error", timeout=8)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PAIR_ACTIONS:  # two conditions compare once the run has ended
            return self.pair_action_allowed(action)
        if action in CHART_ACTIONS:
            return self.charts_check(action)
        if action == "cancel_run":
            return self.running
        if action == "resume":
            return self.interrupted
        if action == "force_resume":
            return False
        if action == "run_again":
            return not self.running and self.result is not None and not self.interrupted
        return True
