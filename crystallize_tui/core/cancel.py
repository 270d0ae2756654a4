"""The cancellation token shared by a run and its replicates."""

from __future__ import annotations

import threading

from .errors import Cancelled


class CancelToken:
    """A thread-safe flag; once set, no new replicate starts and cancellation points raise.

    ``event`` may be a ``multiprocessing`` Event so that worker processes see the cancel.
    Two levels: ``stop_starting()`` (a stop rule that holds) sets ``cancelled`` only, so no new
    replicate starts while running ones finish and are kept; ``cancel()`` also makes the
    cancellation points raise. ``hard`` is that second flag (by default its own Event; the
    same as ``event`` when only ``event`` is given, so both levels are one).
    """

    __slots__ = ("_event", "_hard", "_is_hard", "_is_set")

    def __init__(self, event: threading.Event | None = None, hard: threading.Event | None = None) -> None:
        self._event = event if event is not None else threading.Event()
        self._hard = hard if hard is not None else (threading.Event() if event is None else self._event)
        self._is_set = self._event.is_set  # looked up once: checked at every step boundary
        self._is_hard = self._hard.is_set

    def cancel(self) -> None:
        self._hard.set()
        self._event.set()

    def stop_starting(self) -> None:
        """No new replicate starts; running ones go on to their end (``check`` passes)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """No new replicate may start (cancelled, or stopped by a rule)."""
        return self._is_set()

    @property
    def hard_cancelled(self) -> bool:
        """Cancelled: running replicates stop at their next cancellation point."""
        return self._is_hard()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled (not merely stopped starting)."""
        if self._is_hard():
            raise Cancelled()

    def __getstate__(self) -> object:
        return (self._event, self._hard)  # the bound methods are found again on the other side

    def __setstate__(self, state: object) -> None:
        event, hard = state if isinstance(state, tuple) else (state, state)
        self.__init__(event, hard)  # type: ignore[misc]
