"""The pool backends, threads and processes: one supervision loop over a set of workers.

The loop keeps every worker fed (PREFETCH tasks each, so none idles waiting for the
parent), publishes the events they send in this thread, yields results as they finish,
records a replicate whose process worker died as failed and restarts the worker, and on
a cancel waits ``grace`` seconds for workers to reach a cancellation point.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from .. import capture as capture_mod
from ..cancel import CancelToken
from ..errors import ConfigError, PluginError
from ..events import Event
from ..plan import RunPlan
from ..result import FAILED, ReplicateResult
from .base import Backend, Publish
from .workers import ProcessWorkers, ThreadWorkers

PREFETCH = 2  # tasks queued per worker, so a worker never idles waiting for the parent
DEFAULT_GRACE = 2.0


class PoolBackend(Backend):
    """Replicates on ``workers`` workers; subclasses say what a worker is."""

    SETTINGS: ClassVar[tuple[str, ...]] = ("workers", "grace")
    captures: ClassVar[bool] = False  # print capture installed in this process

    def __init__(self, *, workers: int = 4, grace: float = DEFAULT_GRACE) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"backend {self.name!r}: workers must be a whole number >= 1, got {workers!r}")
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise ConfigError(f"backend {self.name!r}: grace must be a number of seconds >= 0, got {grace!r}")
        super().__init__(workers=workers)
        self.grace = float(grace)

    def _workers(self, plan: RunPlan, n: int, token: CancelToken) -> Any:
        raise NotImplementedError

    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        """Run the plan's tasks on the workers, yielding results as they finish."""
        pending = _Pending(plan.tasks)
        n = max(1, min(self.workers, len(plan.tasks)))
        if not pending:
            return
        captured = self.captures and plan.capture
        if captured:
            capture_mod.install()
        workers = self._workers(plan, n, token)
        assigned: list[deque[tuple[str, int]]] = [deque() for _ in range(n)]
        live = set(range(n))
        fatal: str | None = None
        cancel_deadline: float | None = None

        def feed(wid: int) -> None:
            while pending and len(assigned[wid]) < PREFETCH and not token.cancelled:
                task = pending.popleft()
                assigned[wid].append(task)
                workers.send(wid, task)
            if not pending and not assigned[wid]:
                workers.send(wid, None)

        def handle(item: Any) -> ReplicateResult | None:
            nonlocal fatal
            if isinstance(item, Event):
                publish(item)
                return None
            tag, wid = item[0], item[1]
            if tag == "done":
                assigned[wid].popleft()
                feed(wid)
                return item[2]
            if tag == "fatal":
                fatal = fatal or item[2]
                token.cancel()
            elif tag == "exit":
                live.discard(wid)
            return None

        try:
            for wid in range(n):
                feed(wid)
            while live:
                if token.cancelled and cancel_deadline is None:
                    cancel_deadline = time.monotonic() + self.grace
                    workers.cancel()
                    for wid in live:
                        workers.send(wid, None)
                items = workers.receive(0.05)
                for item in items:
                    result = handle(item)
                    if result is not None:
                        yield result
                if not items:
                    if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                        break
                    for wid in list(live):
                        code = workers.dead(wid)
                        if code is None:
                            continue
                        # died without saying so: killed, segfault, os._exit
                        live.discard(wid)
                        lost = _worker_died(plan, wid, code, assigned[wid], pending)
                        if lost is not None:
                            yield lost
                        if pending and not token.cancelled:
                            workers.restart(wid)
                            live.add(wid)
                            feed(wid)
        except KeyboardInterrupt:
            token.cancel()  # Ctrl-C: stop the workers now rather than after their replicates
            workers.cancel()
            raise
        finally:
            expired = cancel_deadline is not None and time.monotonic() > cancel_deadline
            workers.stop(grace_expired=expired or bool(live and token.cancelled))
            if captured:
                capture_mod.uninstall()
        if fatal:
            raise PluginError(fatal)


class ThreadBackend(PoolBackend):
    """Worker threads of this process: cheap to start, share memory, but Python code
    holds the GIL (good for steps that wait on I/O or release the GIL)."""

    name = "threads"
    captures = True  # worker threads print through this process's streams

    def _workers(self, plan: RunPlan, n: int, token: CancelToken) -> Any:
        return ThreadWorkers(plan, n, token)


class ProcessBackend(PoolBackend):
    """Worker processes: true parallelism and isolation (a crashing step kills only its
    worker, which is restarted). ``start_method`` is multiprocessing's; by default "fork"
    where it is safe (POSIX, one thread in this process), else "spawn"."""

    name = "processes"
    SETTINGS = ("workers", "grace", "start_method")

    def __init__(self, *, workers: int = 4, grace: float = DEFAULT_GRACE,
                 start_method: str | None = None) -> None:
        super().__init__(workers=workers, grace=grace)
        if start_method is not None and start_method not in mp.get_all_start_methods():
            methods = ", ".join(mp.get_all_start_methods())
            raise ConfigError(f"backend 'processes': start_method must be one of {methods}, "
                              f"got {start_method!r}")
        self.start_method = start_method

    def _workers(self, plan: RunPlan, n: int, token: CancelToken) -> Any:
        return ProcessWorkers(plan, n, self.start_method)


class _Pending:
    """The tasks not handed to a worker yet: the plan's (lazy) task order, read one at a
    time, with tasks given back by a dead worker put in front."""

    def __init__(self, tasks: Iterable[tuple[str, int]]) -> None:
        self._front: deque[tuple[str, int]] = deque()
        self._rest = iter(tasks)

    def __bool__(self) -> bool:
        if self._front:
            return True
        nxt = next(self._rest, None)
        if nxt is None:
            return False
        self._front.append(nxt)
        return True

    def popleft(self) -> tuple[str, int]:
        if self._front:
            return self._front.popleft()
        return next(self._rest)

    def extendleft(self, tasks: Iterable[tuple[str, int]]) -> None:
        self._front.extendleft(tasks)


def _worker_died(
    plan: RunPlan, wid: int, code: int, assigned: deque[tuple[str, int]], pending: _Pending
) -> ReplicateResult | None:
    """The replicate a worker was running when it died, recorded as failed; the tasks it
    had prefetched but not started go back to the front of the queue."""
    if not assigned:
        return None
    treatment, k = assigned.popleft()
    pending.extendleft(reversed(assigned))
    assigned.clear()
    message = f"WorkerDied: worker process {wid} exited with code {code} while running this replicate"
    return ReplicateResult(treatment, k, plan.seeds[k], FAILED, [], 0.0, message, message)
