"""One replicate as an asyncio task: the async backend's counterpart of core/replicate.py.

Same seeds, config copies, events, hooks, retries and result as ``replicate_runner``, so a
run gives the same metrics on either; the differences: ``async def`` steps are awaited on
the shared loop (no loop per replicate), plain steps run in a thread (as with
``asyncio.to_thread``: a blocking call does not hold up the other replicates),
print output is routed by the task's context, and a cancel also reaches the replicate at
its awaits (``asyncio.CancelledError``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import os
import queue
import threading
import time
import traceback as tb_mod
from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any

from .. import capture as capture_mod
from .. import events as ev
from ..cache import StepCache
from ..cache_step import opener
from ..cancel import CancelToken
from ..context import StepContext
from ..errors import Cancelled, PluginError
from ..metrics import Metrics
from ..pipeline import StepSpec
from ..plan import ReplicateHooks, RunPlan
from ..replicate import (
    ASYNCIO_DIR,
    ENGINE_DIR,
    _call_step,
    _default_sigint_here,
    call_hook,
    look_up_cached,
)
from ..result import CANCELLED, FAILED, OK, ReplicateResult
from ..treatment import fresh_copy
from .async_blocking import Blocking, timed

Emit = Callable[[ev.Event], None]
_clock = time.perf_counter
# A plain step's exception comes back through the executor thread's frames: skipped too.
_MACHINERY = (ENGINE_DIR, ASYNCIO_DIR, os.path.dirname(os.path.abspath(concurrent.futures.__file__)) + os.sep)


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` from the user's code on (the engine's, the event loop's and
    the executor's frames before it left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_MACHINERY):
        tb = tb.tb_next
    return "".join(tb_mod.format_exception(type(exc), exc, tb))


def _discard(event: ev.Event) -> None:
    """Where captured output goes when nobody listens and echo is off."""


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
    emit = emit if plan.want_events else None
    lines_only = plan.lines_only
    step_emit = None if lines_only else emit
    seeds, configs, flat = plan.seeds, plan.configs, plan.flat_configs
    run_id, name, echo, capturing = plan.run_id, plan.name, plan.echo, plan.capture
    before_replicate, after_replicate = hooks.before_replicate, hooks.after_replicate
    # Looked up once per run: which steps are coroutine functions (awaited on the loop).
    steps = [(step, inspect.iscoroutinefunction(step.fn)) for step in plan.steps]
    blocking = Blocking()  # async steps that held up the loop, reported once per step
    step_cache = opener(plan.cache_dir)

    def check_added(name: str, value: Any) -> None:
        token.check()

    async def run(treatment: str, k: int) -> ReplicateResult:
        seed = seeds[k]
        config = configs[treatment]
        config = config.copy() if treatment in flat else fresh_copy(config)
        ctx = StepContext.for_replicate(config, treatment, k, seed, run_id, name, emit, token, echo)
        if lines_only:  # metrics.add stays a cancellation point, without an event
            ctx.metrics = Metrics(check_added)
        if step_emit is not None:
            step_emit(ev.ReplicateStarted(run_id, treatment, k, time.monotonic(), seed))
        capture = None
        if capturing:
            capture = capture_mod.ReplicateCapture(run_id, treatment, k, emit or _discard, echo)
            capture_mod.begin_task(capture)  # this task's context only
        status, error, trace, data = OK, None, None, config
        start = _clock()
        try:
            for plugin in before_replicate:
                call_hook(plugin, "before_replicate", ctx)
            for step, is_async in steps:
                data = await _run_step(step, is_async, data, ctx, hooks, step_emit, token, threads,
                                       blocking, step_cache() if step.cache else None)
        except (Cancelled, asyncio.CancelledError):
            status = CANCELLED
        except PluginError:
            raise
        except Exception as exc:
            status = FAILED
            error = f"{type(exc).__name__}: {exc}"
            trace = user_traceback(exc)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt... from the step itself
            if isinstance(exc, KeyboardInterrupt) and token.cancelled:
                status = CANCELLED  # the user's Ctrl-C: the signal handler cancelled the run first
            elif isinstance(exc, KeyboardInterrupt) and _default_sigint_here():
                raise  # no handler of ours ran: a real Ctrl-C cannot be told apart, so it stops
            else:
                status = FAILED
                error = f"{type(exc).__name__}: {exc}"
                trace = user_traceback(exc)
        finally:
            if capture is not None:
                capture.flush_partial()
        result = ReplicateResult(
            treatment, k, seed, status, ctx.metrics._values, _clock() - start, error, trace, None,
        )
        if status != CANCELLED:
            for plugin in after_replicate:
                call_hook(plugin, "after_replicate", ctx, result)
        return result

    return run


async def _run_step(
    step: StepSpec, is_async: bool, data: Any, ctx: StepContext, hooks: ReplicateHooks,
    emit: Emit | None, token: CancelToken, threads: StepThreads, blocking: Blocking,
    cache: StepCache | None = None,
) -> Any:
    lookup, hit, data = look_up_cached(step, data, ctx, hooks, token, cache)
    if hit:
        return data
    try:
        return await _attempts(step, is_async, data, ctx, hooks, emit, token, threads, blocking, lookup)
    finally:
        if lookup is not None:  # the step failed or was cancelled: its config back
            lookup.release(ctx)


async def _attempts(
    step: StepSpec, is_async: bool, data: Any, ctx: StepContext, hooks: ReplicateHooks,
    emit: Emit | None, token: CancelToken, threads: StepThreads, blocking: Blocking, lookup: Any,
) -> Any:
    attempts = step.retries + 1
    for attempt in range(1, attempts + 1):
        token.check()  # step boundaries are cancellation points
        for plugin in hooks.before_step:
            call_hook(plugin, "before_step", ctx, step.name)
        if emit is not None:
            emit(ev.StepStarted(ctx.run_id, ctx.treatment, ctx.replicate, time.monotonic(), step.name, attempt))
        mark = ctx.metrics._mark()
        started = _clock()
        try:
            if is_async:
                out = await timed(_call_step(step, data, ctx), step.name, blocking, ctx.log)
            else:
                out = await threads.call(_call_step, step, data, ctx)
                if type(out) is CoroutineType:  # a callable object whose __call__ is async
                    out = await out
        except Exception:
            capture_mod.flush_current()
            if emit is not None:
                emit(ev.StepFinished(ctx.run_id, ctx.treatment, ctx.replicate, time.monotonic(),
                                     step.name, _clock() - started, False))
            if attempt == attempts:
                raise
            ctx.metrics._rollback(mark)  # a retried attempt's metrics do not count
            continue
        capture_mod.flush_current()
        if emit is not None:
            emit(ev.StepFinished(ctx.run_id, ctx.treatment, ctx.replicate, time.monotonic(),
                                 step.name, _clock() - started, True))
        if lookup is not None:
            out = lookup.keep(ctx, out)
        for plugin in hooks.after_step:
            call_hook(plugin, "after_step", ctx, step.name, out)
        return out
    raise AssertionError("unreachable")
