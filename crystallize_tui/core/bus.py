"""The event bus of one run: delivers every event to every subscriber, isolating failures."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from . import capture
from .events import Event

Subscriber = Callable[[Event], None]


class EventBus:
    """Calls subscribers in order. A subscriber that raises only watches, so it is
    disabled for the rest of the run with a warning instead of failing the run."""

    def __init__(self, subscribers: list[tuple[str, Subscriber]] | None = None) -> None:
        self._subs: list[tuple[str, Subscriber]] = list(subscribers or [])
        self.disabled: list[tuple[str, str]] = []  # (subscriber, error) for the record

    # The list is replaced, never changed in place (add, remove, _disable): a publish that
    # is running keeps iterating the list it started with, and needs no copy per event.
    def add(self, name: str, subscriber: Subscriber) -> None:
        self._subs = [*self._subs, (name, subscriber)]

    def remove(self, subscriber: Subscriber) -> None:
        """Stop calling ``subscriber`` (a handle's unsubscribe; safe during a publish)."""
        self._subs = [entry for entry in self._subs if entry[1] is not subscriber]

    def __bool__(self) -> bool:
        return bool(self._subs)

    def __len__(self) -> int:
        return len(self._subs)

    def attribute(self, name: str) -> list[Any]:
        """The ``name`` attribute of each subscriber that has one (side hooks, see Run)."""
        return [hook for _, sub in self._subs if (hook := getattr(sub, name, None)) is not None]

    def publish(self, event: Event) -> None:
        # A subscriber's own print() goes to the terminal, not into the replicate whose
        # event it handles: captured, it would come back to it as an Output event, forever.
        paused = capture.pause()
        try:
            # The list as it is now: _disable replaces it, so the subscriber after one that
            # raised is still called.
            for entry in self._subs:
                try:
                    entry[1](event)
                except Exception as exc:  # isolate: a watcher must not kill the run
                    self._disable(entry, exc)
        finally:
            capture.resume(paused)

    def _disable(self, entry: tuple[str, Subscriber], exc: Exception) -> None:
        if entry in self._subs:
            self._subs = [e for e in self._subs if e is not entry]
        message = f"{type(exc).__name__}: {exc}"
        self.disabled.append((entry[0], message))
        warnings.warn(
            f"event subscriber {entry[0]} raised {message}; it is disabled for the rest of this run",
            RuntimeWarning,
            stacklevel=2,
        )
