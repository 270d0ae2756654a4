"""Reading a run live from another process (tailing the store by row id), and the run
process's side of a cross-process cancel request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..polling import polling
from .store import Store

# How often a watcher re-reads the store, and how often the run process looks for a cancel
# request. Each poll is one indexed read (~0.1 ms) in the watcher's own process: the run
# does not pay for being watched beyond SQLite's shared read lock.
POLL_S = 0.2
CANCEL_POLL_S = 0.25

RUNNING = "running"


@dataclass
class Snapshot:
    """What a watcher knows of a run after one poll."""

    status: str
    host: str | None
    pid: int | None
    counts: dict[str, tuple[int, int]]
    rows: list[dict[str, Any]] = field(default_factory=list)  # new event rows, oldest first
    failures: list[tuple[str, int, str]] = field(default_factory=list)  # new failed replicates
    dropped: int = 0  # the run's earliest logged rows not kept (the store keeps the newest)

    @property
    def running(self) -> bool:
        return self.status == RUNNING


class RunFollower:
    """Tails one run: each ``poll`` returns only what is new since the previous one.

    Cheap on a big run: the per-condition counts are one aggregate read, made only when
    another connection has committed since the previous poll (SQLite's data_version), and
    the failed replicates are listed again only when the failed count grew.
    """

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.replicates = int(store.run_row(run_id)["replicates"])  # unknown ids fail here
        self._last_id = 0
        self._failed_seen: set[tuple[str, int]] = set()
        self._version: tuple[int, int] | None = None  # (thread, data_version): per connection
        self._counts: dict[str, tuple[int, int]] = {}
        self._dropped = 0

    def poll(self, last: int | None = None) -> Snapshot:
        """The run's state and the rows logged since the last poll (with ``last``: only the
        last ``last`` of them, for a watcher that attaches late)."""
        # Status first: rows written before the run ended are then all read below.
        status, host, pid = self.store.live_status(self.run_id)
        rows = self.store.events_since(self.run_id, self._last_id, last)
        if rows:
            self._last_id = rows[-1]["id"]
        failures: list[tuple[str, int, str]] = []
        version = (threading.get_ident(), self.store.data_version())
        if version != self._version:
            self._version = version
            before = sum(f for _, f in self._counts.values())
            self._counts = self.store.condition_counts(self.run_id)
            self._dropped = self.store.events_dropped(self.run_id)
            if sum(f for _, f in self._counts.values()) != before:
                failures = [f for f in self.store.failures(self.run_id)
                            if (f[0], f[1]) not in self._failed_seen]
                self._failed_seen.update((c, r) for c, r, _ in failures)
        return Snapshot(status, host, pid, dict(self._counts), rows, failures, self._dropped)


@contextmanager
def cancel_requests(store: Store, cancel: Callable[[], None],
                    every: float = CANCEL_POLL_S,
                    stop: Callable[[], bool] | None = None) -> Iterator[None]:
    """While inside, a thread of the run process polls the store for a watcher's cancel
    request on the run this process records and calls ``cancel`` once (cooperative: the
    run stops at its next cancellation point, finished replicates are kept). With ``stop``,
    a stop request (``Store.request_stop``) calls it until it says it reached a run: no new
    replicate starts and the running ones finish (a cancel may still follow it)."""
    stopped = stop is None

    def tick() -> bool:
        nonlocal stopped
        try:
            asked = store.cancel_requested_here()
            halt = not stopped and store.stop_requested_here()
        except Exception:  # noqa: BLE001 - a busy or vanished store: the run reports it
            return False
        if halt:
            # The request may come before the run is under way: asked again until it is.
            stopped = bool(stop())  # type: ignore[misc]
        if asked:
            cancel()
        return bool(asked)

    with polling(tick, every, "crystallize-cancel-poll"):
        yield
