"""Bridges a run to the store: the run row, each replicate's commit, the bounded event log."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import events as ev
from ..errors import StoreError, StoreLostError
from ..fingerprint import canonical_json
from ..result import ReplicateResult, Result
from .store import Store

MAX_EVENTS_PER_RUN = 20_000
# Output lines and ctx.emit events kept per run (the first ones; later ones are counted in
# runs.events_dropped): a long run must not grow the store without limit.
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


# Output lines wait at most this long in the run process before a watcher in another process
# can read them (a replicate's commit writes them sooner). One small commit per interval at
# most, only when there are new lines: a quiet run pays nothing.
LIVE_FLUSH_S = 0.2


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
    """Writes one run into the store. Replicates are committed as they finish; print
    output, ctx.emit events and artifacts ride along in those commits (bounded)."""

    def __init__(self, store: Store, run_id: str, max_events: int | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self._start: Any = None
        self.max_events = max_events_per_run() if max_events is None else max_events
        self._events: list[tuple[Any, ...]] = []
        self._artifacts: list[tuple[Any, ...]] = []
        self._logged = 0
        self.dropped = 0
        self._lost = False  # a commit failed: that error, already raised, said why
        # The run thread appends lines; the flusher thread writes them out between commits.
        self._buffer_lock = threading.Lock()
        self._stop_flushing = threading.Event()
        self._flusher: threading.Thread | None = None

    def new_run(self, *, info: Any, parts: dict[str, str], fingerprint: str, workspace: Path) -> None:
        """Record a new run when the run starts."""
        self._start = lambda: self._begin(info, parts, fingerprint, workspace)

    def resumed_run(
        self, *, replicates: int, note: str | None, resumes: int | None = None,
        conditions: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        """Claim the stored run when the run starts (see ``Store.reopen_run``)."""
        self._start = lambda: self.store.reopen_run(
            self.run_id, replicates=replicates, note=note, resumes=resumes, conditions=conditions)

    def start(self) -> None:
        self._start()

    def _start_flusher(self) -> None:
        # Started at the first line, not with the run: a process pool, started before any
        # line, forks its workers only while the process has a single thread.
        self._flusher = threading.Thread(target=self._flush_live, daemon=True,
                                         name=f"crystallize-output-{self.run_id}")
        self._flusher.start()

    def _flush_live(self) -> None:
        """Write buffered output lines every LIVE_FLUSH_S, so that a watcher sees a line a
        step printed before a long computation while that computation still runs."""
        while not self._stop_flushing.wait(LIVE_FLUSH_S):
            with self._buffer_lock:
                events, self._events = self._events, []
            if not events:
                continue
            try:
                self.store.save_events(self.run_id, events)
            except StoreError:  # the next replicate's commit reports what is wrong
                with self._buffer_lock:
                    self._events[:0] = events
                return

    def _stop_flusher(self) -> None:
        self._stop_flushing.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()

    def _take_buffers(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        with self._buffer_lock:
            events, self._events = self._events, []
            artifacts, self._artifacts = self._artifacts, []
        return events, artifacts

    def _begin(self, info: Any, parts: dict[str, str], fingerprint: str, workspace: Path) -> None:
        self.store.begin_run({
            "run_id": self.run_id, "experiment": info.name, "started_at": time.time(),
            "base_seed": info.seed, "replicates": info.replicates,
            "conditions": json.dumps(list(info.conditions)),
            "configs": canonical_json(info.configs), "fingerprint": fingerprint,
            "fingerprint_parts": json.dumps(parts), "versions": json.dumps(package_versions()),
            "git_commit": git_commit(workspace),
            "hypotheses": json.dumps([dataclasses.asdict(h) for h in
                                      getattr(info.experiment, "hypotheses", [])]),
        })

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.ArtifactSaved):
            self._artifacts.append((self.run_id, event.treatment, event.replicate, event.name,
                                    event.path, event.size, event.sha256))
            return
        if isinstance(event, ev.Output):
            kind, payload = "output", {"stream": event.stream, "text": event.text}
        elif isinstance(event, ev.UserEvent):
            kind, payload = "event", {"event": event.kind, "data": event.data}
        else:
            return
        if self._logged >= self.max_events:
            self.dropped += 1
            return
        self._logged += 1
        row = (self.run_id, event.treatment, event.replicate, event.time, kind,
               json.dumps(payload, default=repr))
        with self._buffer_lock:
            self._events.append(row)
        if self._flusher is None and not self._stop_flushing.is_set():
            self._start_flusher()

    def replicate(self, outcome: ReplicateResult) -> None:
        events, artifacts = self._take_buffers()
        try:
            self.store.save_replicate(self.run_id, outcome, events, artifacts)
        except StoreError:
            self._lost = True
            self._stop_flusher()
            self.store.release(self.run_id)
            raise

    def finish(self, result: Result) -> None:
        """Mark the run finished. StoreLostError: the file went away after the last
        replicate's commit, taking the run with it (other StoreErrors leave the run's
        replicates safe in the store; the run then only looks interrupted)."""
        self._stop_flusher()
        if self._lost:
            return  # the run stopped on that error; repeating it would only add noise
        events, artifacts = self._take_buffers()
        try:
            self.store.finish_run(self.run_id, result.status, events=events,
                                  artifacts=artifacts, dropped=self.dropped)
        except StoreLostError:
            self._lost = True
            self.store.release(self.run_id)
            raise
