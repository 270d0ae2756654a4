"""Running one replicate: the hot path shared by every execution backend and debug()."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
import time
import traceback as tb_mod
from collections.abc import Callable, Generator
from types import CoroutineType, TracebackType
from typing import Any

from . import capture as capture_mod
from . import events as ev
from . import interrupts, ml_compat
from .async_steps import AsyncSteps
from .cache import StepCache
from .cache_step import opener, probe
from .cancel import CancelToken
from .context import StepContext
from .errors import Cancelled, PluginError
from .metrics import Metrics
from .pipeline import StepSpec
from .plan import ReplicateHooks, RunPlan
from .plugins.base import Plugin
from .result import CANCELLED, FAILED, OK, ReplicateResult
from .treatment import fresh_copy

Emit = Callable[[ev.Event], None]
_clock = time.perf_counter


def _discard(event: ev.Event) -> None:
    """Where captured output goes when nobody listens and echo is off."""


def call_hook(plugin: Plugin, hook: str, *args: Any) -> None:
    """Call a plugin hook; a failure becomes a PluginError naming the plugin."""
    try:
        getattr(plugin, hook)(*args)
    except Cancelled:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {plugin.name} failed in {hook}: {type(exc).__name__}: {exc}"
        ) from exc


class Replicates:
    """What every replicate of ``plan`` shares in this thread or process, looked up once, and
    the one implementation of a replicate: config copy, context, capture, hooks, retries,
    caching, events, status and result. Only how a step is called differs by backend:
    ``on_loop=False`` calls it here (an ``async def`` step on the replicate's own event
    loop); ``on_loop=True`` hands ``(step, data, ctx)`` out of :meth:`run` to the async
    backend, which awaits it as a task of its shared loop and sends back the outcome."""

    def __init__(self, plan: RunPlan, emit: Emit | None, token: CancelToken, hooks: ReplicateHooks,
                 on_loop: bool = False) -> None:
        emit = emit if plan.want_events else None
        self.emit = emit
        # Only the store listens: it keeps print output, ctx.emit/log and artifacts; the
        # bookkeeping events (replicate and step starts, metrics) would be built for nobody.
        self.lines_only = plan.lines_only
        self.step_emit = None if self.lines_only else emit
        self.plan, self.token, self.hooks, self.on_loop = plan, token, hooks, on_loop
        # Steps without retries, step hooks or listeners take the short way: the same
        # cancellation point and call, none of the bookkeeping that nobody would see.
        # Captured output needs no step events: only its unfinished line is published at
        # each step's end (flush_current below), as the long way does.
        plain = self.step_emit is None and not hooks.before_step and not hooks.after_step
        self.step_plan = [(step, plain and not step.retries and not step.cache) for step in plan.steps]
        self.step_cache = opener(plan.cache_dir, plan.cache_limit)
        # Replicate k has the same seed in every condition, and the conditions of a replicate
        # come one after the other: the last seed derived is handed out again. (Replicates
        # serves one thread, or one event loop, so this needs no lock.)
        self.last_k, self.last_seed = -1, 0
        # What run() reads of the plan, unpacked at once: attribute look-ups per replicate
        # are what the serial fast path would lose to this shared implementation.
        self.fixed = (plan.seeds, plan.configs, plan.flat_configs, plan.run_id, plan.name, plan.echo,
                      plan.capture, plan.keep_output, token, emit, self.step_emit, on_loop,
                      hooks.before_replicate, hooks.after_replicate, self.step_plan, self.step_cache)
        self.done: ReplicateResult | None = None  # the last result: replicate_runner reads it

    def _check_added(self, name: str, value: Any) -> None:
        self.token.check()

    def run(self, treatment: str, k: int) -> Generator[tuple[StepSpec, Any, StepContext], Any, ReplicateResult]:
        """Replicate ``k`` of ``treatment``; returns (as StopIteration's value) its result.
        Yields only with ``on_loop``: each step call, to be made by the caller."""
        (seeds, configs, flat, run_id, name, echo, capturing, keep_output, token, emit, step_emit, on_loop,
         before_replicate, after_replicate, step_plan, step_cache) = self.fixed
        if k == self.last_k:
            seed = self.last_seed
        else:
            seed = self.last_seed = seeds[k]
            self.last_k = k
        config = configs[treatment]
        # Each replicate gets its own config, so a step that mutates it cannot change what
        # the next replicate sees; a dict of scalars needs only a shallow copy for that.
        config = config.copy() if treatment in flat else fresh_copy(config)
        ctx = StepContext.for_replicate(config, treatment, k, seed, run_id, name, emit, token, echo)
        if self.lines_only:  # metrics.add stays a cancellation point, without an event
            ctx.metrics = Metrics(self._check_added)
        if step_emit is not None:
            step_emit(ev.ReplicateStarted(run_id, treatment, k, time.monotonic(), seed))
        capture = None
        if capturing:
            capture = capture_mod.ReplicateCapture(run_id, treatment, k, emit or _discard, echo)
            if on_loop:
                capture_mod.begin_task(capture)  # this task's context only
            else:
                capture_mod.begin(capture)
        status, error, trace, data = OK, None, None, config
        # The replicate's event loop, made for a first async step (not with on_loop: the
        # backend's loop awaits them).
        coroutines: AsyncSteps | None = None
        check = token.check
        start = _clock()
        try:
            for plugin in before_replicate:
                call_hook(plugin, "before_replicate", ctx)
            for step, short in step_plan:
                if not short:
                    if coroutines is None and not on_loop:
                        coroutines = AsyncSteps()
                    data = yield from self._step(step, data, ctx, coroutines,
                                                 step_cache() if step.cache else None)
                    continue
                check()  # step boundaries are cancellation points
                if on_loop:
                    data = yield step, data, ctx
                else:
                    data = _call_step(step, data, ctx)
                    if type(data) is CoroutineType:
                        if coroutines is None:
                            coroutines = AsyncSteps()
                        data = coroutines.run(data)
                if capture is not None and capture._partial:
                    capture.flush_partial()
        except (Cancelled, asyncio.CancelledError):
            status = CANCELLED
        except PluginError:
            raise
        except Exception as exc:
            if self.plan.reraise:
                raise
            status = FAILED
            error = f"{type(exc).__name__}: {exc}"
            trace = user_traceback(exc)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt... from the step itself
            if isinstance(exc, KeyboardInterrupt) and token.cancelled:
                status = CANCELLED  # the user's Ctrl-C: the signal handler cancelled the run first
            elif self.plan.reraise or (isinstance(exc, KeyboardInterrupt) and _default_sigint_here()):
                raise  # no handler of ours ran: a real Ctrl-C cannot be told apart, so it stops
            else:
                status = FAILED
                error = f"{type(exc).__name__}: {exc}"
                trace = user_traceback(exc)
        finally:
            if coroutines is not None:
                coroutines.close()
            if capture is not None:
                if on_loop:  # the task's context ends with it
                    capture.flush_partial()
                else:
                    capture_mod.end()
        result = ReplicateResult(
            treatment, k, seed, status, ctx.metrics._values, _clock() - start, error, trace,
            data if keep_output and status == OK else None,
        )
        if status != CANCELLED:
            for plugin in after_replicate:
                call_hook(plugin, "after_replicate", ctx, result)
        self.done = result
        return result

    def _step(
        self, step: StepSpec, data: Any, ctx: StepContext, coroutines: AsyncSteps | None,
        cache: StepCache | None,
    ) -> Generator[tuple[StepSpec, Any, StepContext], Any, Any]:
        """One step with its cache look-up, retries, hooks and events."""
        token, hooks, emit = self.token, self.hooks, self.step_emit
        lookup, hit, data = look_up_cached(step, data, ctx, hooks, token, cache)
        if hit:
            return data
        attempts = step.retries + 1
        try:
            for attempt in range(1, attempts + 1):
                token.check()  # step boundaries are cancellation points
                for plugin in hooks.before_step:
                    call_hook(plugin, "before_step", ctx, step.name)
                if emit is not None:
                    emit(ev.StepStarted(ctx.run_id, ctx.treatment, ctx.replicate, time.monotonic(), step.name,
                                        attempt))
                mark = ctx.metrics._mark()
                started = _clock()
                try:
                    if coroutines is None:  # on_loop: the backend makes the call
                        out = yield step, data, ctx
                    else:
                        out = _call_step(step, data, ctx)
                        if type(out) is CoroutineType:
                            out = coroutines.run(out)
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
        finally:
            if lookup is not None:  # the step failed or was cancelled: its config back
                lookup.release(ctx)
        raise AssertionError("unreachable")


def replicate_runner(
    plan: RunPlan, emit: Emit | None, token: CancelToken, hooks: ReplicateHooks,
) -> Callable[[str, int], ReplicateResult]:
    """``run(treatment, k)`` for every replicate of ``plan`` in this thread or process, each
    step called here."""
    replicates = Replicates(plan, emit, token, hooks)
    replicate = replicates.run

    def run(treatment: str, k: int) -> ReplicateResult:
        # Called here, the steps never yield: the loop only runs the replicate to its end
        # (without the StopIteration a next() would raise), which leaves its result in done.
        for _ in replicate(treatment, k):
            raise AssertionError("a replicate run in place yields no step call")
        return replicates.done  # type: ignore[return-value]

    return run


def look_up_cached(
    step: StepSpec, data: Any, ctx: StepContext, hooks: ReplicateHooks, token: CancelToken,
    cache: StepCache | None,
) -> tuple[Any, bool, Any]:
    """``(lookup, hit, data)`` for a step about to run: on a hit ``data`` is the step's kept
    output (its after_step hooks called; no step events, its prints not replayed); on a miss
    it is the input the step must get (a config that notes the keys the step reads), and
    ``lookup`` keeps the output once the step returns. Shared by every backend's step loop."""
    if cache is None:
        return None, False, data
    token.check()
    lookup = probe(cache, step, data, ctx)
    if lookup is None:
        return None, False, data
    hit, out = lookup.find(ctx, data)
    if hit:
        for plugin in hooks.after_step:
            call_hook(plugin, "after_step", ctx, step.name, out)
    return lookup, hit, out


def _call_step(step: StepSpec, data: Any, ctx: StepContext) -> Any:
    """Call the user's step (an ``async def`` step returns its coroutine, which the caller
    runs on the replicate's event loop)."""
    out = step.fn(data, ctx) if step.takes_ctx else step.fn(data)
    kind = type(out)
    if kind is tuple:  # crystallize-ml's (data, {"metric": value}): core/ml_compat.py
        return ml_compat.unpack(out, ctx, step.name)
    if kind is CoroutineType:  # the same for what an async step returns
        return ml_compat.unpack_awaited(out, ctx, step.name)
    return out


def _default_sigint_here() -> bool:
    """True where a Ctrl-C would arrive as a plain KeyboardInterrupt: the main thread with
    Python's default handler (not ours, not a worker process that ignores SIGINT)."""
    return (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)


interrupts.register_step_caller(_call_step.__code__)
interrupts.register_step_caller(AsyncSteps.run.__code__)

# The package folder: frames of the engine, the CLI and the TUI all sit under it.
ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# The event loop that runs a replicate's ``async def`` steps is the engine's, so its
# frames above the user's coroutine are left out like the engine's own; so are those of
# the executor a plain step's exception comes back through on the async backend.
ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_MACHINERY = (ENGINE_DIR, ASYNCIO_DIR, os.path.dirname(os.path.abspath(concurrent.futures.__file__)) + os.sep)


def user_frames(tb: TracebackType | None) -> TracebackType | None:
    """Skip the leading Crystallize frames (and the event loop's, for an async step): the
    traceback starts at the user's code."""
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_MACHINERY):
        tb = tb.tb_next
    return tb


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` starting at the user's code (leading Crystallize frames,
    and those of the event loop running an async step, left out)."""
    return "".join(tb_mod.format_exception(type(exc), exc, user_frames(exc.__traceback__)))
