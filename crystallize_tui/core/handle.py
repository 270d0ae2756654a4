"""RunHandle: one run of this process, driven in a background thread (start()) or the caller's (run(), stream())."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from ..watch.progress import ProgressReducer, ProgressSnapshot
from . import events as ev
from .result import ReplicateResult, Result
from .runner import Run

STARTING, RUNNING = "starting", "running"  # then the Result's status: completed, failed, cancelled
_END = object()  # closes an events() iterator


class RunView(Protocol):
    """What RunHandle (a run in this process) and Store.attach's AttachedRun (a run in
    another process) both offer, with the same meanings."""

    @property
    def run_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def progress(self) -> ProgressSnapshot: ...
    def cancel(self) -> None: ...
    def wait(self, timeout: float | None = None) -> Result: ...


class RunHandle:
    """A run started by ``experiment.start()``: it goes on in a thread while you look.

    ``status`` is "starting", "running", then the Result's ("completed", "failed",
    "cancelled"); ``progress`` counts per condition (with elapsed and ETA); ``events()``
    iterates over the run's events, ``subscribe(fn)`` calls ``fn`` for each (in the run's
    thread); ``cancel()`` cancels this run only; ``wait()`` returns its Result, as ``run()``
    would have, or raises what ``run()`` would have raised.
    """

    def __init__(self, *, listen: bool = True) -> None:
        # listen: the handle is a subscriber of the run (status, progress, events()); a run
        # driven in the calling thread (run(), stream()) has nobody to show them to, and a
        # run without subscribers skips building events altogether.
        self._listening = listen
        self._active: Callable[[Run], AbstractContextManager[None]] | None = None
        self._on_end: Callable[[Result | None], None] | None = None
        self._lock = threading.Lock()
        self._reducer = ProgressReducer()
        self._queues: list[queue.SimpleQueue[object]] = []
        self._first: ev.RunStarted | None = None  # replayed to a late events() iterator
        self._last: ev.Event | None = None  # RunFinished / RunCancelled, replayed likewise
        self._done = threading.Event()
        self._status = STARTING
        self._error: BaseException | None = None
        self._result: Result | None = None
        self._run: Run | None = None
        self._thread: threading.Thread | None = None

    # -- engine side: Experiment.start() wires these ---------------------------------
    def publish(self, event: ev.Event) -> None:
        """The handle's own subscriber on the run's bus (one event at a time, in order)."""
        with self._lock:
            self._reducer.feed(event)
            if isinstance(event, ev.RunStarted):
                self._first, self._status = event, RUNNING
            elif isinstance(event, (ev.RunFinished, ev.RunCancelled)):
                self._last = event
            for q in self._queues:
                q.put(event)

    def bind(self, run: Run, active: Callable[[Run], AbstractContextManager[None]],
             on_end: Callable[[Result | None], None]) -> None:
        """Attach the prepared ``run``; ``active`` registers its token with the experiment
        (so ``experiment.cancel()`` and ``stop()`` reach it); ``on_end`` gets the Result."""
        self._run, self._active, self._on_end = run, active, on_end

    def launch(self) -> None:
        """Drive the bound run in a new thread (``start()``)."""
        assert self._run is not None

        def main() -> None:
            try:
                for _ in self._driven(each=False):
                    pass
            except BaseException:  # kept by _driven for wait(), as run() would have raised it
                pass

        # Not a daemon: a script that started a run and reached its end waits for the run
        # (cancel() it to stop early) rather than killing it between two commits.
        self._thread = threading.Thread(target=main, name=f"crystallize-run-{self._run.info.run_id}")
        self._thread.start()

    def drive(self) -> Result:
        """Run to the end in the calling thread and return the Result (``run()``); raises
        what the run raised (KeyboardInterrupt after a Ctrl-C, once all is recorded)."""
        for _ in self._driven(each=False):
            pass
        assert self._result is not None
        return self._result

    def results(self) -> Iterator[ReplicateResult]:
        """Drive the run in the calling thread, yielding each replicate as it finishes
        (``stream()``); leaving the loop early cancels the rest."""
        yield from self._driven(each=True)

    def _driven(self, each: bool) -> Iterator[ReplicateResult]:
        """The one path every run takes, in whichever thread drives it."""
        run = self._run
        assert run is not None and self._active is not None
        if not self._listening:
            self._status = RUNNING  # no RunStarted reaches a handle that does not listen
        error: BaseException | None = None
        try:
            with self._active(run):
                yield from run.iterate(each=each)
        except GeneratorExit:  # the consumer left the loop: the run cancelled and finished
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._end(error)

    def _end(self, error: BaseException | None) -> None:
        run = self._run
        assert run is not None
        self._error = error
        self._result = run.result
        with self._lock:
            self._status = run.result.status if run.result is not None else "failed"
            for q in self._queues:
                q.put(_END)
            self._queues.clear()
        if self._on_end is not None:
            self._on_end(run.result)  # experiment.last_result is set when wait() returns
        self._done.set()

    # -- user side --------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        assert self._run is not None
        return self._run.info.run_id

    @property
    def status(self) -> str:
        return self._status

    @property
    def backend(self) -> str:
        """Where the replicates run, e.g. "serial" or "processes x4"."""
        assert self._run is not None
        return self._run.backend.describe()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def progress(self) -> ProgressSnapshot:
        """Per-condition done / failed / total, elapsed and ETA now (see ProgressReducer)."""
        with self._lock:
            return self._reducer.snapshot(time.monotonic())

    def events(self) -> Iterator[ev.Event]:
        """The run's events from now on until it ends. An iterator opened after the run
        started first gets its RunStarted (and its end, if it is over); the replicates
        finished before are in ``progress`` and in the Result. To hear every event from
        the first, pass ``subscribers=[fn]`` to ``start()``."""
        q: queue.SimpleQueue[object] = queue.SimpleQueue()
        with self._lock:
            if self._first is not None:
                q.put(self._first)
            if self._done.is_set():
                if self._last is not None:
                    q.put(self._last)
                q.put(_END)
            else:
                self._queues.append(q)
        try:
            while (item := q.get()) is not _END:
                yield item  # type: ignore[misc]
        finally:
            with self._lock:
                if q in self._queues:
                    self._queues.remove(q)

    def subscribe(self, callback: Callable[[ev.Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for each later event of this run, one at a time and in
        the run's order: in the run's thread, or in the store's committer thread when a
        group commit it made frees announcements while the run is inside a long replicate
        (a callback that raises is disabled with a warning, as for experiment.subscribe).
        Returns a function that unsubscribes."""
        assert self._run is not None
        bus = self._run.bus
        name = getattr(callback, "__qualname__", repr(callback))
        bus.add(name, callback)
        return lambda: bus.remove(callback)

    def cancel(self) -> None:
        """Cancel this run only: no new replicate starts, running ones stop at their next
        cancellation point, finished ones are kept. ``wait()`` then returns the Result."""
        if self._run is not None:
            self._run.token.cancel()

    def stop(self) -> None:
        """Stop this run at its current look: no new replicate starts, running ones finish
        and are kept; it ends "stopped: at look" with its anytime-valid rows there."""
        if self._run is not None:
            self._run.stop_at_look()

    def wait(self, timeout: float | None = None) -> Result:
        """Block until the run ends and return its Result (raise what ``run()`` would
        have raised). ``TimeoutError`` if it is still going after ``timeout`` seconds.
        Ctrl-C while waiting cancels this run and raises KeyboardInterrupt once it stopped."""
        try:
            finished = self._done.wait(timeout)
        except KeyboardInterrupt:
            # Ctrl-C while waiting: as in run(), cancel this run, let it record what
            # finished, then report the Ctrl-C (a second one stops waiting at once).
            self.cancel()
            self._done.wait()
            raise
        if not finished:
            raise TimeoutError(f"run {self.run_id} is still going after {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def __repr__(self) -> str:
        if self._run is None:
            return "RunHandle(starting)"
        snap = self.progress
        return f"RunHandle({self.run_id!r}, {self.status}, {snap.done}/{snap.total} done)"
