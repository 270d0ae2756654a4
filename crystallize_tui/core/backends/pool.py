"""The pool backends, threads and processes: one supervision loop over a set of workers.

The loop hands out replicates in chunks sized from measured durations (backends/chunks.py:
one at first, up to ~20 ms of work once replicates prove fast, so a trivial replicate does
not pay a round trip) and keeps every worker fed (PREFETCH chunks each, so none idles
waiting for the parent). It publishes the events workers send in this thread, yields
results as they finish (a worker sends them, with the events, at least every 20 ms),
records the replicate a process worker died in as failed and restarts the worker (the
rest of its chunks run again), and on a cancel waits ``grace`` seconds for workers to
reach a cancellation point (every replicate is one, whatever the chunk size).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import deque
from collections.abc import Collection, Iterator
from itertools import islice
from typing import Any, ClassVar

from .. import capture as capture_mod
from ..cancel import CancelToken
from ..errors import ConfigError, PluginError
from ..events import Output
from ..plan import RunPlan
from ..result import FAILED, ReplicateResult
from .base import Backend, Publish
from .chunks import ChunkSizer
from .workers import ProcessWorkers, ThreadWorkers

PREFETCH = 2  # chunks queued per worker, so a worker never idles waiting for the parent
DEFAULT_GRACE = 2.0


class PoolBackend(Backend):
    """Replicates on ``workers`` workers; subclasses say what a worker is."""

    SETTINGS: ClassVar[tuple[str, ...]] = ("workers", "grace", "chunk")
    captures: ClassVar[bool] = False  # print capture installed in this process

    def __init__(self, *, workers: int = 4, grace: float = DEFAULT_GRACE, chunk: int | None = None) -> None:
        """``chunk``: replicates per task, sized from measured durations if None (the
        default), else at most that many (1: one replicate per round trip)."""
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"backend {self.name!r}: workers must be a whole number >= 1, got {workers!r}")
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise ConfigError(f"backend {self.name!r}: grace must be a number of seconds >= 0, got {grace!r}")
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
            raise ConfigError(f"backend {self.name!r}: chunk must be a whole number >= 1 (replicates "
                              f"per task) or left out to size chunks from measured durations, got {chunk!r}")
        super().__init__(workers=workers)
        self.grace = float(grace)
        self.chunk = chunk

    def _workers(self, plan: RunPlan, n: int, token: CancelToken) -> Any:
        raise NotImplementedError

    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        """Run the plan's tasks on the workers in chunks, yielding results as they finish."""
        pending = _Pending(plan.tasks)
        n = max(1, min(self.workers, len(plan.tasks)))
        if not pending:
            return
        captured = self.captures and plan.capture
        if captured:
            capture_mod.install()
        sizer = ChunkSizer(n, fixed=self.chunk, cap=plan.look_every or None)
        workers = self._workers(plan, n, token)
        # assigned[wid]: what the worker was sent and has not reported, in its order;
        # outstanding[wid]: its chunks not reported; base[wid]: how many tasks it was sent
        # since it started that are no longer in assigned (reported or given back).
        assigned: list[deque[tuple[str, int]]] = [deque() for _ in range(n)]
        outstanding = [0] * n
        base = [0] * n
        live = set(range(n))
        fatal: str | None = None
        cancel_deadline: float | None = None
        told_to_stop = False
        stopping = False
        # Replicates some of whose events were published and whose result is not in yet.
        heard: set[tuple[str | None, int | None]] = set()

        def feed(wid: int) -> None:
            nonlocal stopping
            while pending and outstanding[wid] < PREFETCH and not token.cancelled:
                chunk = pending.take(sizer.size(pending.remaining))
                if not chunk:
                    break
                assigned[wid].extend(chunk)
                outstanding[wid] += 1
                workers.send(wid, chunk)
            # An idle worker waits until every chunk is in: a slow one may still give
            # replicates back, or a dying worker leave some to run again.
            if not pending and not stopping and not any(outstanding):
                stopping = True
                for other in live:
                    workers.send(other, None)

        def tell_stop() -> None:
            # No new replicate (a stop rule, or a cancel): running ones finish.
            nonlocal told_to_stop
            told_to_stop = True
            workers.stop_starting()
            for wid in live:
                workers.send(wid, None)

        def feed_all() -> None:
            for wid in sorted(live, key=outstanding.__getitem__):  # the least busy first
                feed(wid)

        try:
            feed_all()
            while live:
                if token.cancelled and not told_to_stop:
                    tell_stop()
                if token.hard_cancelled and cancel_deadline is None:
                    cancel_deadline = time.monotonic() + self.grace
                    workers.cancel()
                items = workers.receive(0.05)
                for item in items:
                    if type(item) is not tuple:
                        publish(item)  # an event: published here, in the consumer's thread
                        heard.add((item.treatment, item.replicate))
                        continue
                    tag, wid = item[0], item[1]
                    if tag == "done":
                        assigned[wid].popleft()
                        base[wid] += 1
                        heard.discard((item[2].treatment, item[2].replicate))
                        yield item[2]
                        if token.cancelled and not told_to_stop:
                            # The consumer's rule held on this result: tell the workers now,
                            # not after the rest of this batch (they run on meanwhile).
                            tell_stop()
                    elif tag == "chunk":
                        _, _, seconds, ran, given_back = item
                        sizer.observe(seconds, ran)
                        outstanding[wid] -= 1
                        if given_back:
                            back = [assigned[wid].popleft() for _ in range(given_back)]
                            base[wid] += given_back
                            pending.give_back(back)
                            feed_all()  # the rest of a slow chunk: to idle workers first
                        else:
                            feed(wid)
                    elif tag == "fatal":
                        fatal = fatal or item[2]
                        token.cancel()
                    elif tag == "exit":
                        live.discard(wid)
                if not items:
                    if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                        break
                    for wid in list(live):
                        code = workers.dead(wid)
                        if code is None:
                            continue
                        # died without saying so: killed, segfault, os._exit
                        live.discard(wid)
                        again = [t for t in assigned[wid] if t in heard]
                        lost = _worker_died(plan, wid, code, assigned[wid], pending,
                                            workers.running[wid] - 1 - base[wid])
                        _say_run_again(plan, again, lost, publish)
                        outstanding[wid] = base[wid] = 0
                        if lost is not None:
                            yield lost
                        if pending and not token.cancelled:
                            workers.restart(wid)
                            live.add(wid)
                        feed_all()
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
    SETTINGS = ("workers", "grace", "chunk", "start_method")

    def __init__(self, *, workers: int = 4, grace: float = DEFAULT_GRACE, chunk: int | None = None,
                 start_method: str | None = None) -> None:
        super().__init__(workers=workers, grace=grace, chunk=chunk)
        if start_method is not None and start_method not in mp.get_all_start_methods():
            methods = ", ".join(mp.get_all_start_methods())
            raise ConfigError(f"backend 'processes': start_method must be one of {methods}, "
                              f"got {start_method!r}")
        self.start_method = start_method

    def _workers(self, plan: RunPlan, n: int, token: CancelToken) -> Any:
        return ProcessWorkers(plan, n, self.start_method)


class _Pending:
    """The tasks not handed to a worker yet: the plan's (lazy) task order, read as needed,
    with tasks given back (by a dead worker, or the unstarted rest of a slow chunk) put in
    front; ``remaining`` counts them all."""

    def __init__(self, tasks: Collection[tuple[str, int]]) -> None:
        self._front: deque[tuple[str, int]] = deque()
        self._rest = iter(tasks)
        self.remaining = len(tasks)

    def __bool__(self) -> bool:
        return self.remaining > 0

    def take(self, count: int) -> list[tuple[str, int]]:
        """Up to ``count`` tasks, given-back ones first."""
        front = self._front
        chunk = [front.popleft() for _ in range(min(count, len(front)))]
        if len(chunk) < count:
            chunk.extend(islice(self._rest, count - len(chunk)))
        self.remaining -= len(chunk)
        if not chunk:  # the plan had fewer tasks than it said: trust what it yields
            self.remaining = 0
        return chunk

    def give_back(self, tasks: list[tuple[str, int]]) -> None:
        """Put ``tasks`` (in their order) before all others."""
        self._front.extendleft(reversed(tasks))
        self.remaining += len(tasks)


RUNS_AGAIN = ("the worker process died before this replicate's result reached the run: it runs "
              "again from the start, so its lines above may be repeated below")


def _say_run_again(plan: RunPlan, again: list[tuple[str, int]], lost: ReplicateResult | None,
                   publish: Publish) -> None:
    """A line in the output of each replicate that will run again after its worker died
    although some of its events were already published (they come again with the rerun)."""
    for treatment, k in again:
        if lost is not None and (lost.treatment, lost.replicate) == (treatment, k):
            continue  # the one it died in is recorded as failed, not run again
        publish(Output(plan.run_id, treatment, k, time.monotonic(), "stderr", RUNS_AGAIN))


def _worker_died(
    plan: RunPlan, wid: int, code: int, assigned: deque[tuple[str, int]], pending: _Pending,
    running: int,
) -> ReplicateResult | None:
    """The replicate a worker was running when it died (``running``: its index in
    ``assigned``, negative if none), recorded as failed; the worker's other tasks go back
    to the front of the queue: those it had not started, and those it finished whose
    results had not reached this process yet (run again)."""
    if not assigned:
        return None
    if not 0 <= running < len(assigned):
        running = 0  # died between replicates (or before its first): blame the next, as a crash in it would
    tasks = list(assigned)
    assigned.clear()
    treatment, k = tasks.pop(running)
    pending.give_back(tasks)
    message = f"WorkerDied: worker process {wid} exited with code {code} while running this replicate"
    return ReplicateResult(treatment, k, plan.seeds[k], FAILED, [], 0.0, message, message)
