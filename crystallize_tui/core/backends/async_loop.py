"""The async backend: many replicates of a run at once as tasks of one event loop.

For steps that mostly wait (model APIs, games against a server): ``concurrency``
replicates are in flight, each an asyncio task in this process (the run process), so
200 replicates that each await 1 s take ~ceil(200/32) s at 32, not 200 s.

The loop runs in the thread that iterates ``run`` (the runner's), in slices: until a
replicate finishes or POLL seconds pass (``run_forever`` stopped by a task's done callback); between slices the results go to the runner
(committed, then announced) and the cancel flag is looked at. Events a task emits are
published at once (same thread); those from plain steps, which run in the loop's
executor threads, are handed to the loop and published from it, in order.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from .. import capture as capture_mod
from .. import resources as resources_mod
from ..async_steps import loop_running_here
from ..cancel import CancelToken
from ..errors import ConfigError, PluginError
from ..events import Event
from ..plan import ReplicateHooks, RunPlan
from ..result import ReplicateResult
from .async_replicate import StepThreads, async_replicate_runner
from .base import Backend, Publish

DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 100_000  # tasks are cheap, but each holds its replicate's state
POLL = 0.05  # seconds between looks at the cancel flag while nothing finishes
DEFAULT_GRACE = 2.0


def check_concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigError(f"backend 'async': concurrency must be a whole number from 1 to "
                          f"{MAX_CONCURRENCY:,} (replicates in flight at once), got {value!r}")
    return value


class AsyncBackend(Backend):
    """Replicates as asyncio tasks of one loop, at most ``concurrency`` at a time.
    ``workers`` (``-w N``) is the same count when ``concurrency`` is not given."""

    name = "async"
    SETTINGS: ClassVar[tuple[str, ...]] = ("workers", "concurrency", "grace")
    pooled: ClassVar[bool] = False  # one process: no default worker count (options.resolve)

    def __init__(self, *, workers: int = 1, concurrency: int | None = None,
                 grace: float = DEFAULT_GRACE) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"backend 'async': workers must be a whole number >= 1, got {workers!r}")
        if concurrency is not None and workers > 1 and workers != concurrency:
            raise ConfigError(f"backend 'async': workers ({workers}) and concurrency ({concurrency}) "
                              "both say how many replicates run at once; give one")
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise ConfigError(f"backend 'async': grace must be a number of seconds >= 0, got {grace!r}")
        if concurrency is None:
            concurrency = workers if workers > 1 else DEFAULT_CONCURRENCY
        super().__init__(workers=1)
        self.concurrency = check_concurrency(concurrency)
        self.grace = float(grace)

    def describe(self) -> str:
        return f"async x{self.concurrency}"

    def run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        if not plan.tasks:
            return
        if loop_running_here():
            # Called from a running loop (a notebook, an async caller): a second loop cannot
            # run in this thread, so ours runs in a helper thread and hands everything back.
            yield from _through_helper_thread(lambda pub: self._run(plan, token, pub), token, publish)
        else:
            yield from self._run(plan, token, publish)

    def _run(self, plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
        loop = asyncio.new_event_loop()
        # Plain steps run here; as many threads as replicates in flight, made as needed.
        threads = StepThreads(min(self.concurrency, 64))
        home = threading.get_ident()
        failures: list[BaseException] = []

        def deliver(event: Event) -> None:
            try:
                publish(event)
            except BaseException as exc:  # raised in the run's thread once the loop slice ends
                failures.append(exc)
                token.cancel()

        def emit(event: Event) -> None:
            if threading.get_ident() == home:
                publish(event)
            else:  # a plain step's thread: published by the loop, after what came before
                loop.call_soon_threadsafe(deliver, event)

        run_one = async_replicate_runner(plan, emit, token, ReplicateHooks.of(plan.plugins), threads)
        todo = iter(plan.tasks)
        running: set[asyncio.Task[ReplicateResult]] = set()
        finished: deque[asyncio.Task[ReplicateResult]] = deque()

        def on_done(task: asyncio.Task[ReplicateResult]) -> None:
            # The loop runs until a replicate ends (or POLL passes): a callback per task
            # rather than asyncio.wait, whose cost grows with the tasks in flight.
            running.discard(task)
            finished.append(task)
            loop.stop()

        fatal: str | None = None
        told = False  # the running tasks were cancelled (a cancel, not a stop)
        captured = plan.capture
        if captured:
            capture_mod.install()
        resources = resources_mod.open_for(plan)
        try:
            while True:
                while len(running) < self.concurrency and not token.cancelled:
                    item = next(todo, None)
                    if item is None:
                        break
                    task = loop.create_task(run_one(*item))
                    task.add_done_callback(on_done)
                    running.add(task)
                if not running and not finished:
                    break
                # A cancel ends the running tasks at their awaits; a stop (a rule that held, or
                # a stop at a look: cancelled, not hard) lets them finish, kept as a pool's are.
                if token.hard_cancelled and not told:
                    told = True
                    for t in running:
                        t.cancel()
                if not finished:
                    tick = loop.call_later(POLL, loop.stop)
                    loop.run_forever()
                    tick.cancel()
                if failures:
                    raise failures[0]
                while finished:
                    t = finished.popleft()
                    if t.cancelled():
                        continue  # cancelled before it started: never ran
                    exc = t.exception()
                    if exc is None:
                        yield t.result()
                    elif isinstance(exc, PluginError):
                        fatal = fatal or str(exc)
                        token.cancel()
                    else:
                        raise exc
        finally:
            _wind_down(loop, self.grace)
            threads.close()
            resources.close()
            if captured:
                capture_mod.uninstall()
        if fatal:
            raise PluginError(fatal)


def _through_helper_thread(body: Callable[[Publish], Iterator[ReplicateResult]], token: CancelToken,
                           publish: Publish) -> Iterator[ReplicateResult]:
    """Iterate ``body`` in a helper thread; its events are published and its results yielded
    here, in the order it made them (so events of a replicate still come before its result)."""
    out: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
    EVENT, RESULT, END, ERROR = range(4)

    def main() -> None:
        try:
            for result in body(lambda event: out.put((EVENT, event))):
                out.put((RESULT, result))
            out.put((END, None))
        except BaseException as exc:  # raised again in the run's thread
            out.put((ERROR, exc))

    helper = threading.Thread(target=main, name="crystallize-async-loop", daemon=True)
    helper.start()
    try:
        while True:
            kind, item = out.get()
            if kind == EVENT:
                publish(item)
            elif kind == RESULT:
                yield item
            elif kind == END:
                return
            else:
                raise item
    finally:
        if helper.is_alive():  # left early: stop the replicates, let the loop wind down
            token.cancel()
            helper.join()


def _wind_down(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    """Cancel what still runs (also tasks the steps started) and give it ``grace`` seconds to
    unwind, then close the loop. (A plain step still in its thread is not waited for: its
    replicate is over, and the thread is a daemon.)"""
    try:
        left = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in left:
            t.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=max(grace, POLL)))
        loop.run_until_complete(loop.shutdown_asyncgens())
        # asyncio.to_thread calls of the steps: their threads are asked to end, not awaited.
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), max(grace, POLL)))
    except BaseException:  # noqa: BLE001 - cleanup of user tasks must not hide the run's outcome
        pass
    finally:
        loop.close()
