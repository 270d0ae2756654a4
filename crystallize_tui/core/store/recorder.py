"""Bridges a run to the store: the run row, each replicate's commit, the bounded event log."""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import events as ev
from ..errors import StoreError, StoreLostError
from ..fingerprint import canonical_json
from ..hypothesis import hypothesis_record, metric_bounds_record
from ..result import OK, ReplicateResult, Result
from .store import Store

MAX_EVENTS_PER_RUN = 20_000
# Output lines and ctx.emit events kept per run (the newest ones; older ones are deleted and
# counted in runs.events_dropped): a long run must not grow the store without limit.
MAX_EVENTS_ENV = "CRYSTALLIZE_MAX_OUTPUT_LINES"


def max_events_per_run() -> int:
    """The bound on kept output lines per run: $CRYSTALLIZE_MAX_OUTPUT_LINES, else 20,000."""
    text = os.environ.get(MAX_EVENTS_ENV, "").strip()
    if not text:
        return MAX_EVENTS_PER_RUN
    try:
        value = int(text)
    except ValueError:
        raise StoreError(f"${MAX_EVENTS_ENV}={text!r}: expected a whole number of lines") from None
    if value < 0:
        raise StoreError(f"${MAX_EVENTS_ENV}={text!r}: must be 0 or more")
    return value


# A finished replicate waits at most this long before its group is committed (by the run's
# thread at its next replicate, else by the committer thread), and so do output lines. A
# watcher in another process polls every 0.2 s, so it still sees both within 0.5 s.
GROUP_WINDOW_S = 0.05
# A group is committed once it holds this many replicates: past a few hundred rows a
# transaction's fixed cost (BEGIN, COMMIT, the WAL frames) is already spread thin.
GROUP_MAX = 500
# The kept log may exceed its bound by this much between trims, so that trimming (one
# indexed read at an offset, one range delete) happens once per that many rows, not per commit.
TRIM_SLACK_FRACTION = 8


@functools.cache  # read once per process (~6 ms of metadata parsing, paid by every run)
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("crystallize-tui", "numpy", "scipy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit(folder: Path) -> str | None:
    """The workspace's HEAD commit (with "+dirty" when files changed), if it is a git repo."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                              text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=folder, capture_output=True, text=True, timeout=5)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


class RunRecorder:
    """Writes one run into the store, committing finished replicates in groups.

    ``replicate(outcome, hold=True)`` keeps a finished replicate waiting; the waiting ones
    are committed together (one transaction, with the print output, ctx.emit events and
    artifacts buffered meanwhile) when GROUP_MAX are waiting, when the oldest has waited
    GROUP_WINDOW_S (the run's thread checks at each replicate, a committer thread between
    them), at once for a failed replicate or one that took longer than the window (the next
    is likely slow too: waiting gains nothing), and by ``commit()`` (the run calls it at its
    end, on cancel, Ctrl-C and failure). ``committed`` counts the replicates committed so
    far, in the order given: the run announces a replicate (ReplicateFinished) only once it
    is counted there — committed before announced.

    What a kill -9 of the run process can lose: the replicates that finished in the last
    window (at most GROUP_WINDOW_S, at most GROUP_MAX of them) and output lines of the last
    window. None of them was announced to anyone, in this process or another (watchers read
    only what is committed); a resume reruns them with the same seeds. A commit is durable
    against a killed process (WAL, ``synchronous=NORMAL``); a power cut or an OS crash may
    also lose the last commits before a checkpoint, never the file's consistency.

    The log of output lines and events keeps the newest ``max_events`` rows of the run;
    older ones are deleted in the same transactions and counted in ``runs.events_dropped``.
    """

    def __init__(self, store: Store, run_id: str, max_events: int | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self._start: Any = None
        self.consumed: list[dict[str, Any]] = []  # a chained run's producer runs (core/chain.py)
        self.max_events = max_events_per_run() if max_events is None else max_events
        self._slack = self.max_events // TRIM_SLACK_FRACTION + 16
        self._kept = 0  # logged rows of this run in the store (after the last commit)
        self._replace = False  # a resumed run: a replicate may replace a stored one
        self._events: list[tuple[Any, ...]] = []
        self._artifacts: list[tuple[Any, ...]] = []
        self._waiting: list[ReplicateResult] = []
        self._waiting_since = 0.0
        self._lines_since = 0.0  # when the oldest buffered line (or artifact) came
        self.recorded = 0  # replicates handed to replicate()
        self.committed = 0  # of them, committed (in the order handed over)
        self.muted = False  # the run is re-publishing events it gave to on_event already
        # Called by the committer thread after each commit (the run announces what it freed).
        self.after_commit: Callable[[], None] | None = None
        self._lost = False  # a commit failed: that error, already raised, said why
        # The run thread appends; the committer thread takes and writes between replicates.
        self._buffer_lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one commit at a time, in order
        self._stop_flushing = threading.Event()
        self._flusher: threading.Thread | None = None
        self._failure: StoreError | None = None  # the committer's, reported by the run

    def new_run(self, *, info: Any, parts: dict[str, str], fingerprint: str, workspace: Path,
                extra: dict[str, Any] | None = None) -> None:
        """Record a new run when the run starts; ``extra``: more columns of its row (a
        confirmatory run's kind, seed_stream and lock_fingerprint)."""
        self._start = lambda: self._begin(info, parts, fingerprint, workspace, extra or {})

    def resumed_run(
        self, *, replicates: int, note: str | None, resumes: int | None = None,
        conditions: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        """Claim the stored run when the run starts (see ``Store.reopen_run``)."""
        def reopen() -> None:
            self.store.reopen_run(self.run_id, replicates=replicates, note=note,
                                  resumes=resumes, conditions=conditions)
            self._replace = True
            self._kept = self.store.count_events(self.run_id)

        self._start = reopen

    def start(self) -> None:
        self._start()
        for consumed in self.consumed:  # lineage, once the run's row exists
            self.store.add_lineage(self.run_id, consumed)

    def _start_flusher(self) -> None:
        # Started at the first line or held replicate, not with the run: a process pool,
        # started before either, forks its workers only while the process has one thread.
        self._flusher = threading.Thread(target=self._flush_live, daemon=True,
                                         name=f"crystallize-commit-{self.run_id}")
        self._flusher.start()

    def _flush_live(self) -> None:
        """Commit what has waited GROUP_WINDOW_S: a replicate that finished before a long
        one, and the lines a step printed before a long computation, reach a watcher in
        another process while the long one still runs."""
        # Wakes twice per window and commits only what has waited a window: while the run's
        # thread commits its own full groups, this thread leaves them alone (a commit here
        # would compete with the run for the interpreter and cut groups short).
        while not self._stop_flushing.wait(GROUP_WINDOW_S / 2):
            now = time.monotonic()
            with self._buffer_lock:
                due = ((self._waiting and now - self._waiting_since >= GROUP_WINDOW_S)
                       or ((self._events or self._artifacts)
                           and now - self._lines_since >= GROUP_WINDOW_S))
            if not due:
                continue
            try:
                self._commit()
            except StoreError as exc:  # the run's next commit reports it
                self._failure = exc
                return
            if self.after_commit is not None:
                self.after_commit()

    def _stop_flusher(self) -> None:
        self._stop_flushing.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()

    def _begin(self, info: Any, parts: dict[str, str], fingerprint: str, workspace: Path,
               extra: dict[str, Any]) -> None:
        self.store.begin_run({
            "run_id": self.run_id, "experiment": info.name, "started_at": time.time(),
            "base_seed": info.seed, "replicates": info.replicates,
            "conditions": json.dumps(list(info.conditions)),
            "configs": canonical_json(info.configs), "fingerprint": fingerprint,
            "fingerprint_parts": json.dumps(parts), "versions": json.dumps(package_versions()),
            "git_commit": git_commit(workspace),
            "hypotheses": json.dumps([hypothesis_record(h) for h in
                                      getattr(info.experiment, "hypotheses", [])]),
            "metric_bounds": (json.dumps(metric_bounds_record(info.experiment.metric_bounds))
                              if getattr(info.experiment, "metric_bounds", None) else None),
            **extra,
        })

    def on_event(self, event: ev.Event) -> None:
        if self.muted:
            return
        if isinstance(event, ev.ArtifactSaved):
            with self._buffer_lock:
                if not (self._events or self._artifacts):
                    self._lines_since = time.monotonic()
                self._artifacts.append((self.run_id, event.treatment, event.replicate,
                                        event.name, event.path, event.size, event.sha256))
            return
        if isinstance(event, ev.Output):
            kind, payload = "output", {"stream": event.stream, "text": event.text}
        elif isinstance(event, ev.UserEvent):
            kind, payload = "event", {"event": event.kind, "data": event.data}
        else:
            return
        try:
            text = json.dumps(payload, default=repr)
        except Exception as exc:  # noqa: BLE001 - e.g. a circular ctx.emit payload
            # Called straight from the step (no bus isolating it): keep the line, say why
            # its data is not, rather than fail the replicate or lose the log.
            text = json.dumps({**payload, "data": f"<not storable: {type(exc).__name__}: {exc}>"}
                              if kind == "event" else {**payload, "text": repr(payload["text"])})
        row = (self.run_id, event.treatment, event.replicate, event.time, kind, text)
        with self._buffer_lock:
            if not (self._events or self._artifacts):
                self._lines_since = time.monotonic()
            self._events.append(row)
        if self._flusher is None and not self._stop_flushing.is_set():
            self._start_flusher()

    def replicate(self, outcome: ReplicateResult, *, hold: bool = False) -> None:
        """Keep a finished replicate for the next group commit (``hold``), or commit it (with
        any waiting) now. StoreError when a commit fails; the run then stops."""
        with self._buffer_lock:
            if not self._waiting:
                self._waiting_since = time.monotonic()
            self._waiting.append(outcome)
            self.recorded += 1
            waiting = len(self._waiting)
        if (not hold or outcome.status != OK or outcome.duration >= GROUP_WINDOW_S
                or waiting >= GROUP_MAX or self._failure is not None
                or time.monotonic() - self._waiting_since >= GROUP_WINDOW_S):
            self.commit()
        elif self._flusher is None and not self._stop_flushing.is_set():
            self._start_flusher()

    def commit(self) -> None:
        """Commit every waiting replicate and buffered line now (nothing if the run's store
        was lost). StoreError when it fails: the run stops, nothing waiting was announced."""
        if self._lost:
            return
        try:
            if self._failure is not None:
                raise self._failure
            self._commit()
        except StoreError:
            self._lost = True
            self._stop_flusher()
            self.store.release(self.run_id)
            raise

    def _commit(self, ending: str | None = None) -> None:
        """One transaction: the waiting replicates, the buffered rows, the trim of the log;
        with ``ending`` (the run's status) the run's end too."""
        with self._commit_lock:
            with self._buffer_lock:
                reps, self._waiting = self._waiting, []
                events, self._events = self._events, []
                artifacts, self._artifacts = self._artifacts, []
            if not (reps or events or artifacts or ending):
                return  # nothing to write: no empty transaction
            bound = self.max_events
            # More new lines than are kept: only the newest count, the rest are dropped.
            kept = events[len(events) - bound:] if len(events) > bound else events
            dropped = len(events) - len(kept)
            trim = bound if ending or self._kept + len(kept) > bound + self._slack else None
            try:
                if ending is not None:
                    self.store.finish_run(self.run_id, ending, events=kept, artifacts=artifacts,
                                          dropped=dropped, trim_events_to=trim)
                    trimmed = 0
                else:
                    trimmed = self.store.save_replicates(
                        self.run_id, reps, kept, artifacts, replace=self._replace,
                        trim_events_to=trim, dropped=dropped)
            except BaseException:
                with self._buffer_lock:  # kept for the report, never announced
                    self._waiting[:0] = reps
                    self._events[:0] = events
                    self._artifacts[:0] = artifacts
                raise
            self._kept += len(kept) - trimmed
            self.committed += len(reps)

    def finish(self, result: Result) -> None:
        """Mark the run finished (committing anything still waiting first). StoreLostError:
        the file went away after the last replicate's commit, taking the run with it (other
        StoreErrors leave the run's replicates safe in the store; the run then only looks
        interrupted)."""
        self._stop_flusher()
        if self._lost:
            return  # the run stopped on that error; repeating it would only add noise
        self.commit()
        try:
            self._commit(ending=result.status)
        except StoreLostError:
            self._lost = True
            self.store.release(self.run_id)
            raise
