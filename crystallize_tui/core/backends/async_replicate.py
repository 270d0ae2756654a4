"""One replicate as an asyncio task: the async backend's way of calling steps.

The replicate itself (seeds, config copies, events, hooks, retries, caching, result) is
core/replicate.py's ``Replicates``, the same as every backend's; here only its step calls
are made: ``async def`` steps are awaited on the shared loop (no loop per replicate), plain
steps run in a thread (as with ``asyncio.to_thread``: a blocking call does not hold up the
other replicates), print output is routed by the task's context, and a cancel also reaches
the replicate at its awaits (``asyncio.CancelledError``).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import queue
import threading
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any

from .. import events as ev
from ..cancel import CancelToken
from ..context import StepContext
from ..pipeline import StepSpec
from ..plan import ReplicateHooks, RunPlan
from ..replicate import Replicates, _call_step
from ..result import ReplicateResult
from .async_blocking import Blocking, timed

Emit = Callable[[ev.Event], None]


class StepThreads:
    """The threads plain steps run in, started as needed up to ``limit``. Daemons, unlike
    ``asyncio.to_thread``'s executor: a step stuck past a cancel's grace period is left
    behind (as the threads backend leaves its workers) rather than holding the process at
    exit. Each call runs in a copy of the caller's context (the replicate's print capture)."""

    def __init__(self, limit: int) -> None:
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._limit = limit
        self._started = 0
        self._idle = 0
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """``fn(*args)`` in one of the threads; a future of the running loop for its outcome."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._work.put((loop, future, contextvars.copy_context(), fn, args))
        with self._lock:  # _idle: idle threads less the calls queued for one
            if self._idle <= 0 and self._started < self._limit:
                self._started += 1
                threading.Thread(target=self._main, name="crystallize-async-step", daemon=True).start()
            else:
                self._idle -= 1  # this one is taken
        return future

    def _main(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            loop, future, context, fn, args = item
            try:
                outcome, failed = context.run(fn, *args), False
            except BaseException as exc:  # handed to the awaiting replicate, whatever it is
                outcome, failed = exc, True
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, failed)
            except RuntimeError:  # the loop is closed: the run is over, nobody waits for this
                pass
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """Let the threads end once they finish what they run."""
        for _ in range(self._started):
            self._work.put(None)


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.cancelled():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def async_replicate_runner(
    plan: RunPlan, emit: Emit | None, token: CancelToken, hooks: ReplicateHooks, threads: StepThreads,
) -> Callable[[str, int], Awaitable[ReplicateResult]]:
    """``await run(treatment, k)`` for every replicate of ``plan``, as tasks of one loop.
    ``emit`` must be safe to call from ``threads`` (plain steps run there)."""
    replicate = Replicates(plan, emit, token, hooks, on_loop=True).run
    # Looked up once per run: which steps are coroutine functions (awaited on the loop).
    awaited = {id(step) for step in plan.steps if inspect.iscoroutinefunction(step.fn)}
    blocking = Blocking()  # async steps that held up the loop, reported once per step

    async def call(step: StepSpec, data: Any, ctx: StepContext) -> Any:
        if id(step) in awaited:
            return await timed(_call_step(step, data, ctx), step.name, blocking, ctx.log)
        out = await threads.call(_call_step, step, data, ctx)
        if type(out) is CoroutineType:  # a callable object whose __call__ is async
            out = await out
        return out

    async def run(treatment: str, k: int) -> ReplicateResult:
        steps = replicate(treatment, k)
        try:
            request = next(steps)
            while True:
                try:
                    out = await call(*request)
                except BaseException as exc:  # the replicate decides: retry, fail, cancel
                    request = steps.throw(exc)
                else:
                    request = steps.send(out)
        except StopIteration as done:
            return done.value

    return run
