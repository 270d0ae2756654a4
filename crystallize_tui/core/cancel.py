"""The cancellation token shared by a run and its replicates."""

from __future__ import annotations

import threading

from .errors import Cancelled


class CancelToken:
    """A thread-safe flag; once set, no new replicate starts and cancellation points raise.

    ``event`` may be a ``multiprocessing`` Event so that worker processes see the cancel.
    """

    __slots__ = ("_event", "_is_set")

    def __init__(self, event: threading.Event | None = None) -> None:
        self._event = event if event is not None else threading.Event()
        self._is_set = self._event.is_set  # looked up once: checked at every step boundary

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled."""
        if self._is_set():
            raise Cancelled()

    def __getstate__(self) -> object:
        return self._event  # the bound method is found again on the other side

    def __setstate__(self, event: object) -> None:
        self.__init__(event)  # type: ignore[misc]
