"""AttachedRun: a read-only handle on a run that another process records in the store."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ...watch.format import Line, failure_line, stored_line
from ...watch.progress import ProgressReducer, ProgressSnapshot
from ..result import Result
from .follow import POLL_S, RunFollower

if TYPE_CHECKING:
    from .store import Store


class AttachedRun:  # a RunView (core/handle.py)
    """``Store.attach(run_id)``: the same names and meanings as RunHandle, read from the
    store. ``status`` is running, completed, failed, cancelled or interrupted (its process
    is gone); ``progress`` is the progress reducer's snapshot rebuilt from the stored
    replicates (elapsed and ETA on the wall clock); ``events()`` / ``lines()`` give the
    stored output then the live tail until the run ends; ``cancel()`` asks the run's
    process to cancel; ``wait()`` returns the stored Result once the run has ended.
    """

    def __init__(self, store: Store, run_id: str) -> None:
        self._store = store
        self._follower = RunFollower(store, run_id)  # unknown ids fail here
        self.run_id = run_id
        self._lock = threading.Lock()  # progress may be read from several threads

    @property
    def status(self) -> str:
        return self._store.live_status(self.run_id)[0]

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def progress(self) -> ProgressSnapshot:
        """Per-condition done / failed / of, elapsed and ETA now (see ProgressReducer)."""
        with self._lock:
            snapshot = self._follower.poll(last=0)
        row = self._store.run_row(self.run_id)
        reducer = ProgressReducer()
        reducer.start(json.loads(row["conditions"]), int(row["replicates"]),
                      at=row["started_at"])
        for condition, (ok, failed) in snapshot.counts.items():
            reducer.done[condition] = ok + failed
            reducer.failed[condition] = failed
        if not snapshot.running:
            # An interrupted run has no finish time: its clock stops at its last commit.
            reducer.end(at=row["finished_at"] or self._store.last_commit(self.run_id)
                        or row["started_at"])
        return reducer.snapshot(time.time())

    def events(self) -> Iterator[dict[str, Any]]:
        """The run's stored rows (output lines and logged events, each a dict with kind,
        treatment, replicate, ...), then each new one, until the run ends; a failed
        replicate comes as a row of kind "failed" with its error."""
        follower = RunFollower(self._store, self.run_id)
        while True:
            snapshot = follower.poll()
            yield from snapshot.rows
            for condition, replicate, error in snapshot.failures:
                yield {"kind": "failed", "treatment": condition, "replicate": replicate,
                       "error": error}
            if not snapshot.running:
                return
            time.sleep(POLL_S)

    def lines(self) -> Iterator[Line]:
        """The run's output as lines (the one formatter of watch/format.py), stored ones
        first, then the live tail, until the run ends."""
        for row in self.events():
            if row["kind"] == "failed":
                yield failure_line(row["treatment"], row["replicate"], row["error"])
            elif (line := stored_line(row)) is not None:
                yield line

    def cancel(self) -> None:
        """Ask the run's process to cancel this run (cooperatively: it stops at its next
        cancellation point, finished replicates are kept). Nothing happens once it ended."""
        if self.status == "running":
            self._store.request_cancel(self.run_id)

    def stop(self) -> None:
        """Ask the run's process to stop this run at its current look: no new replicate
        starts, running ones finish and are kept ("stopped: at look"). Nothing once it ended."""
        if self.status == "running":
            self._store.request_stop(self.run_id)

    def wait(self, timeout: float | None = None) -> Result:
        """Block until the run is no longer running and return its stored Result (its
        status says how it ended). ``TimeoutError`` if it is still going after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status == "running":
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.run_id} is still going after {timeout} s")
            time.sleep(POLL_S / 2)
        return self._store.load(self.run_id)

    def __repr__(self) -> str:
        snap = self.progress
        return f"AttachedRun({self.run_id!r}, {self.status}, {snap.done}/{snap.total} done)"
