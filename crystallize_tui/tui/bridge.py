"""The one place core events become UI state: a run's events, gathered in the run's thread,
handed to the UI in batches the screen drains on a timer.

Posting one Textual message per event would flood the message queue at thousands of events
per second; here the run thread does the cheap bookkeeping (counters, one formatted line per
output event) and the UI takes whatever arrived since its last look, at most ~15 times a
second. Output lines are bounded, so memory stays flat however long the run streams;
replicate results are kept whole (the tables need every one).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..core import events as ev
from ..watch.format import event_line

MAX_PENDING_LINES = 5_000


def format_line(event: ev.Event) -> str | None:
    """The output panel's line for an event, or None for events it does not show."""
    line = event_line(event)
    return line.text if line is not None else None


@dataclass
class Batch:
    """What arrived since the last drain."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (condition, text)
    finished: list[ev.ReplicateFinished | ev.ReplicateFailed] = field(default_factory=list)
    started: ev.RunStarted | None = None
    ended: ev.RunFinished | ev.RunCancelled | None = None
    dropped: int = 0  # output lines that overflowed before the UI looked

    def __bool__(self) -> bool:
        return bool(self.lines or self.finished or self.started or self.ended or self.dropped)


class RunBridge:
    """A run subscriber (called in the run's thread) that the UI drains."""

    def __init__(self, max_pending_lines: int = MAX_PENDING_LINES) -> None:
        self._lock = threading.Lock()
        self._lines: deque[tuple[str, str]] = deque(maxlen=max_pending_lines)
        self._finished: list[Any] = []
        self._started: ev.RunStarted | None = None
        self._ended: Any = None
        self._dropped = 0
        self.received = 0  # every event seen, for benchmarks and the status line
        self.last_event_at = 0.0

    def __call__(self, event: ev.Event) -> None:
        self.received += 1
        line = format_line(event)
        with self._lock:
            if line is not None:
                if len(self._lines) == self._lines.maxlen:
                    self._dropped += 1
                self._lines.append((event.treatment or "", line))
            if isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
                self._finished.append(event)
            elif isinstance(event, ev.RunStarted):
                self._started = event
            elif isinstance(event, (ev.RunFinished, ev.RunCancelled)):
                self._ended = event
        self.last_event_at = time.monotonic()

    def drain(self) -> Batch:
        with self._lock:
            batch = Batch(list(self._lines), self._finished, self._started, self._ended,
                          self._dropped)
            self._lines.clear()
            self._finished = []
            self._started = None
            self._ended = None
            self._dropped = 0
        return batch
