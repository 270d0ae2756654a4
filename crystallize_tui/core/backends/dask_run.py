"""One run on a Dask cluster: chunks of replicates submitted as workers free up, their
events and results taken in order in the run's thread, lost chunks retried once."""

from __future__ import annotations

import dataclasses
import pickle
import queue
import time
import uuid
from collections import deque
from collections.abc import Iterator
from itertools import islice
from typing import Any

from distributed import KilledWorker

from ..cancel import CancelToken
from ..errors import ConfigError, PluginError
from ..events import Event, Output
from ..plan import RunPlan
from ..result import FAILED, ReplicateResult
from . import dask_ship
from .base import Publish
from .dask import chunk_size, echo_output
from .dask_worker import RunSetup, cancel_run, run_chunk, stop_run

IN_FLIGHT = 2  # chunks per worker thread, so a worker starts its next chunk at once
ATTEMPTS = 2  # a replicate whose worker died runs once more, alone, then counts as failed
# With a stop rule, a chunk holds at most this many rounds (a replicate per condition): the
# run sees a chunk's results only when it ends, so what runs past the stopping look is up to
# IN_FLIGHT chunks per worker thread; a Dask round trip (milliseconds) is worth a few rounds.
LOOK_ROUNDS = 4

Task = tuple[str, int]


class DaskRun:
    """The run's side of one run on a cluster: what was submitted, what came back, what
    is published; ``results()`` is the backend's generator."""

    def __init__(self, client: Any, plan: RunPlan, token: CancelToken, publish: Publish,
                 grace: float) -> None:
        self.client = client
        self.plan = plan
        self.token = token
        self.publish = publish
        self.grace = grace
        self.key = f"{plan.run_id}-{uuid.uuid4().hex[:8]}"
        self.topic = f"crystallize-events-{self.key}"
        self.inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.echo = plan.echo and plan.capture
        self.chunks: dict[str, tuple[Any, int, list[Task]]] = {}  # future key -> chunk
        self.retry: deque[tuple[int, list[Task]]] = deque()
        self.done: set[Task] = set()
        # (condition, replicate) -> (attempt, last sequence) of the events published
        self.live: dict[Task, tuple[int, int]] = {}
        self.failure: BaseException | None = None
        self.spent = 0.0
        self.measured = 0

    def results(self) -> Iterator[ReplicateResult]:
        client = self.client
        # The workers echo nothing (their terminal is not the user's): this process does.
        worker_plan = dataclasses.replace(self.plan, tasks=(), echo=False)
        data, folders = dask_ship.pack(worker_plan)
        # Subscribed before any task is submitted: no event is logged before it counts.
        client.subscribe_topic(self.topic, lambda event: self.inbox.put(("events", event[1])))
        plugin = f"crystallize-{self.key}"
        client.register_plugin(RunSetup(self.key, self.topic, data, folders), name=plugin)
        try:
            yield from self._loop()
        except KeyboardInterrupt:
            self.token.cancel()
            self._cancel_workers()
            raise
        finally:
            futures = [f for f, _, _ in self.chunks.values()]
            topic = self.topic

            def forget(dask_scheduler: Any) -> None:
                # The scheduler keeps a topic's last 1,000 messages for late subscribers; a
                # long-lived one would keep every run's. (Nested: it travels by value, so
                # the scheduler needs no crystallize_tui.)
                dask_scheduler._broker._topics.pop(topic, None)

            for action in (lambda: futures and client.cancel(futures),
                           lambda: client.unsubscribe_topic(topic),
                           lambda: client.unregister_worker_plugin(plugin),
                           lambda: client.run_on_scheduler(forget)):
                try:
                    action()
                except Exception:  # the cluster is going away: nothing left to tidy
                    pass
        if self.failure is not None:
            raise self.failure

    # -- the loop -----------------------------------------------------------------------

    def _loop(self) -> Iterator[ReplicateResult]:
        tasks = iter(self.plan.tasks)
        remaining = len(self.plan.tasks)
        slots = self._slots()
        token = self.token
        deadline: float | None = None

        def feed() -> None:
            nonlocal remaining
            while not token.cancelled and len(self.chunks) < IN_FLIGHT * slots:
                if self.retry:
                    attempt, chunk = self.retry.popleft()
                else:
                    mean = self.spent / self.measured if self.measured else None
                    n = chunk_size(mean, remaining, slots)
                    if self.plan.look_every:  # a stop rule: little may run past its look
                        n = min(n, LOOK_ROUNDS * self.plan.look_every)
                    chunk = list(islice(tasks, n))
                    remaining -= len(chunk)
                    attempt = 1
                if not chunk:
                    return
                self._submit(attempt, chunk)

        feed()
        stopping = False
        while self.chunks:
            if token.cancelled and not stopping:
                # No new replicate (a stop rule, a stop at a look, or a cancel): a chunk
                # ends after its running replicate, which finishes and is kept unless this is
                # a cancel (below); one that begins now starts none.
                stopping = True
                if not token.hard_cancelled:
                    self._stop_workers(stop_run)
            if token.hard_cancelled and deadline is None:
                deadline = time.monotonic() + self.grace
                self._stop_workers(cancel_run)
            if deadline is not None and time.monotonic() > deadline:
                break  # what is still running is cancelled with its futures
            try:
                items = [self.inbox.get(timeout=0.1)]
            except queue.Empty:
                continue
            while True:
                try:
                    items.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            for kind, item in items:
                if kind == "events":
                    self._events(item)
                else:
                    yield from self._chunk_done(*item)
            feed()

    def _slots(self) -> int:
        """Worker threads in the cluster (waiting for a first worker if it has none yet)."""
        try:
            self.client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ConfigError("the Dask cluster has no workers (waited 60 s for one)") from None
        try:
            info = self.client.scheduler_info(n_workers=-1)  # all of them, not the first few
        except TypeError:  # distributed before 2025 lists every worker anyway
            info = self.client.scheduler_info()
        workers = info["workers"].values()
        return max(1, sum(w.get("nthreads", 1) for w in workers))

    def _submit(self, attempt: int, chunk: list[Task]) -> None:
        seeds = self.plan.seeds
        # pure=False: Dask would otherwise merge calls with equal arguments into one.
        tasks = pickle.dumps([(t, k, seeds[k]) for t, k in chunk], protocol=pickle.HIGHEST_PROTOCOL)
        future = self.client.submit(run_chunk, self.key, attempt, tasks, pure=False)
        self.chunks[future.key] = (future, attempt, chunk)
        future.add_done_callback(self._fetch)

    def _fetch(self, future: Any) -> None:
        """A chunk's end, in Dask's callback thread: its results are fetched there, so the
        run's thread goes on publishing meanwhile."""
        outcome: Any = None
        if future.status in ("finished", "error"):
            try:
                outcome = pickle.loads(future.result())
            except BaseException as exc:  # the chunk's error, handed to the run's thread
                # unless the run cancelled it meanwhile (a stop or a cancel): dropped
                outcome = None if future.cancelled() else exc
        self.inbox.put(("done", (future.key, outcome)))

    def _cancel_workers(self) -> None:
        self._stop_workers(cancel_run)

    def _stop_workers(self, flag: Any) -> None:
        """Set the run's flag on every worker (``cancel_run``: running replicates stop at
        their next cancellation point; ``stop_run``: they finish, and their chunk starts no
        other). A cancel also drops the chunks no worker has begun (a worker that joins later
        has no flag). A stop drops none: the scheduler's view of what runs lags the workers,
        so a chunk it calls queued may have begun, even ended, and its results, which a stop
        keeps, would go with it; a chunk that begins after the flag starts no replicate and
        comes back empty at once."""
        client = self.client
        try:
            client.run(flag, self.key, on_error="ignore")
            if flag is not cancel_run:
                return
            running = {key for keys in client.processing().values() for key in keys}
            queued = [f for f, _, _ in self.chunks.values() if f.key not in running]
            if queued:
                client.cancel(queued)
        except Exception:  # the cluster is going away: the grace period still ends the run
            pass

    # -- what comes back ----------------------------------------------------------------

    def _events(self, data: bytes) -> None:
        publish, live, done = self.publish, self.live, self.done
        for treatment, k, attempt, seq, event in pickle.loads(data):
            task = (treatment, k)
            if task in done or not isinstance(event, Event):
                continue
            # Each event once, by its key: a later attempt starts afresh (and silences an
            # earlier one still running); Dask's second computation of the same attempt
            # repeats keys already published.
            shown = live.get(task, (attempt, 0))
            if attempt < shown[0] or (attempt == shown[0] and seq <= shown[1]):
                continue
            live[task] = (attempt, seq)
            publish(event)
            if self.echo and isinstance(event, Output):
                echo_output(event)

    def _chunk_done(self, key: str, outcome: Any) -> Iterator[ReplicateResult]:
        entry = self.chunks.pop(key, None)
        if entry is None:
            return
        future, attempt, chunk = entry
        if outcome is None:
            if future.status != "cancelled":
                # "lost": the worker holding the finished chunk died before its results
                # were fetched; Dask computes it again. Wait for that.
                self.chunks[key] = entry
                future.add_done_callback(self._fetch)
            return
        if isinstance(outcome, list):
            for result in outcome:
                task = (result.treatment, result.replicate)
                if task in self.done:
                    continue
                self.done.add(task)
                self.live.pop(task, None)
                self.spent += result.duration
                self.measured += 1
                yield result
            return
        exc = outcome
        if isinstance(exc, KilledWorker):
            for task in chunk:
                if task in self.done:
                    continue
                if attempt < ATTEMPTS and not self.token.cancelled:
                    self.retry.append((attempt + 1, [task]))  # alone: an innocent one then passes
                else:
                    self.done.add(task)
                    yield _died(self.plan, task, attempt, exc)
            return
        self.token.cancel()
        self._cancel_workers()
        if self.failure is None:
            if isinstance(exc, dask_ship.UserCodeError):
                self.failure = ConfigError(str(exc))
            elif isinstance(exc, PluginError):
                self.failure = PluginError(str(exc))
            else:
                self.failure = PluginError(f"a Dask task of the run failed: {type(exc).__name__}: {exc}")


def _died(plan: RunPlan, task: Task, attempts: int, exc: BaseException) -> ReplicateResult:
    treatment, k = task
    worker = getattr(getattr(exc, "last_worker", None), "address", None)
    where = f" (worker {worker})" if worker else ""
    message = (f"WorkerDied: the Dask worker running this replicate died, on attempt {attempts} "
               f"of {ATTEMPTS}{where}; Dask blames every task that was on a dying worker, so "
               "this replicate may be innocent of a crash another one caused")
    return ReplicateResult(treatment, k, plan.seeds[k], FAILED, [], 0.0, message, message)
