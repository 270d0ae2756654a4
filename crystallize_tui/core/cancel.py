"""The cancellation token shared by a run and its replicates."""

from __future__ import annotations

import threading

from .errors import Cancelled


class CancelToken:
    """A thread-safe flag; once set, no new replicate starts and cancellation points raise.

    ``event`` may be a ``multiprocessing`` Event so that worker processes see the cancel.
    """

    __slots__ = ("_event",)

    def __init__(self, event: threading.Event | None = None) -> None:
        self._event = event if event is not None else threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled."""
        if self._event.is_set():
            raise Cancelled()
