"""Execution backends: serial in the calling thread, and worker pools of threads or processes.

Each backend is a generator of finished ReplicateResults (completion order) that calls
``publish`` for every event in the calling thread, so subscribers and the store only
ever run in one thread. Replicates left unstarted by a cancel are simply not yielded.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from . import capture as capture_mod
from .cancel import CancelToken
from .errors import PluginError
from .events import Event
from .plan import ReplicateHooks, RunPlan
from .replicate import run_replicate
from .result import FAILED, ReplicateResult

Publish = Callable[[Event], None]
PREFETCH = 2  # tasks queued per worker, so a worker never idles waiting for the parent


def run_serial(plan: RunPlan, token: CancelToken, publish: Publish) -> Iterator[ReplicateResult]:
    hooks = ReplicateHooks.of(plan.plugins)
    captured = plan.capture
    if captured:
        capture_mod.install()
    try:
        for treatment, k in plan.tasks:
            if token.cancelled:
                return
            yield run_replicate(plan, treatment, k, publish, token, hooks)
    finally:
        if captured:
            capture_mod.uninstall()


# -- worker side ----------------------------------------------------------------------


class _BatchSender:
    """Collects a process worker's events and sends them in pickled batches.

    A background thread flushes every ``interval`` seconds, so events reach the parent
    while a long step is still running; control messages flush at once.
    """

    def __init__(self, out: Any, interval: float = 0.02, max_batch: int = 512) -> None:
        self._out = out
        self._buf: list[Any] = []
        self._lock = threading.Lock()
        self._max = max_batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self._thread.start()

    def emit(self, item: Any) -> None:
        with self._lock:
            self._buf.append(item)
            if len(self._buf) >= self._max:
                self._flush()

    def send_now(self, item: Any) -> None:
        with self._lock:
            self._buf.append(item)
            self._flush()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._flush()

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with self._lock:
                self._flush()

    def _flush(self) -> None:
        if not self._buf:
            return
        batch, self._buf = self._buf, []
        try:
            data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data = pickle.dumps([_picklable(item) for item in batch], protocol=pickle.HIGHEST_PROTOCOL)
        self._out.put(("batch", data))


def _picklable(item: Any) -> Any:
    """``item``, or a stand-in with unpicklable parts shown as their repr."""
    try:
        pickle.dumps(item)
        return item
    except Exception:
        pass
    data = getattr(item, "data", None)
    if isinstance(data, dict):
        import dataclasses

        return dataclasses.replace(item, data={k: _safe_value(v) for k, v in data.items()})
    if isinstance(item, tuple) and item and item[0] == "done":
        result = item[2]
        result.output = None
        return item
    return repr(item)


def _safe_value(value: Any) -> Any:
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return repr(value)


def _worker_loop(
    plan: RunPlan, wid: int, tasks: Any, emit: Callable[[Any], None], send: Callable[[Any], None],
    token: CancelToken,
) -> None:
    hooks = ReplicateHooks.of(plan.plugins)
    try:
        while True:
            task = tasks.get()
            if task is None or token.cancelled:
                break
            result = run_replicate(plan, task[0], task[1], emit, token, hooks)
            send(("done", wid, result))
    except PluginError as exc:
        send(("fatal", wid, str(exc)))
    except BaseException as exc:  # anything escaping the worker is the engine's bug
        import traceback

        send(("fatal", wid, f"worker {wid} crashed: {type(exc).__name__}: {exc}\n"
                            f"{traceback.format_exc()}"))
    finally:
        send(("exit", wid))


def _process_worker_main(plan: RunPlan, wid: int, tasks: Any, out: Any, cancel_event: Any) -> None:
    token = CancelToken(cancel_event)
    sender = _BatchSender(out)
    if plan.capture:
        capture_mod.install()
    try:
        _worker_loop(plan, wid, tasks, sender.emit, sender.send_now, token)
    finally:
        sender.close()


# -- parent side ----------------------------------------------------------------------


class _ThreadWorkers:
    def __init__(self, plan: RunPlan, n: int, token: CancelToken) -> None:
        self.out: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.inboxes = [queue.SimpleQueue() for _ in range(n)]
        self.threads = [
            threading.Thread(
                target=_worker_loop,
                args=(plan, wid, self.inboxes[wid], self.out.put, self.out.put, token),
                name=f"crystallize-worker-{wid}",
                daemon=True,
            )
            for wid in range(n)
        ]
        for t in self.threads:
            t.start()

    def send(self, wid: int, task: Any) -> None:
        self.inboxes[wid].put(task)

    def dead(self, wid: int) -> int | None:
        return None  # a thread cannot die without sending "exit"

    def restart(self, wid: int) -> None:
        raise AssertionError("thread workers are not restarted")

    def stop(self, grace_expired: bool) -> None:
        for box in self.inboxes:
            box.put(None)
        # Threads cannot be killed; ones stuck in a step without a cancellation point
        # are daemons and are left behind when the grace period runs out.


class _ProcessWorkers:
    def __init__(self, plan: RunPlan, n: int, token: CancelToken, start_method: str | None) -> None:
        self.ctx = mp.get_context(start_method or _default_start_method())
        self.plan = plan
        self.out = self.ctx.Queue()
        self.cancel_event = self.ctx.Event()
        self.inboxes: list[Any] = [None] * n
        self.procs: list[Any] = [None] * n
        for wid in range(n):
            self._start(wid)

    def _start(self, wid: int) -> None:
        self.inboxes[wid] = self.ctx.SimpleQueue()
        proc = self.ctx.Process(
            target=_process_worker_main,
            args=(self.plan, wid, self.inboxes[wid], self.out, self.cancel_event),
            name=f"crystallize-worker-{wid}",
            daemon=True,
        )
        proc.start()
        self.procs[wid] = proc

    def send(self, wid: int, task: Any) -> None:
        self.inboxes[wid].put(task)

    def dead(self, wid: int) -> int | None:
        proc = self.procs[wid]
        return None if proc.is_alive() else proc.exitcode

    def restart(self, wid: int) -> None:
        self._start(wid)

    def stop(self, grace_expired: bool) -> None:
        for wid, proc in enumerate(self.procs):
            if proc.is_alive():
                if grace_expired:
                    proc.terminate()
                else:
                    self.inboxes[wid].put(None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)


def _default_start_method() -> str:
    # fork is fast and runs unguarded scripts, but forking a process with other threads
    # alive (a TUI, a thread pool) can deadlock the child: use spawn there.
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def run_pool(
    plan: RunPlan,
    token: CancelToken,
    publish: Publish,
    *,
    kind: str,
    max_workers: int,
    grace: float = 2.0,
    start_method: str | None = None,
) -> Iterator[ReplicateResult]:
    """Run the plan's tasks on worker threads or processes, yielding results as they finish."""
    pending = deque(plan.tasks)
    n = max(1, min(max_workers, len(pending)))
    if not pending:
        return
    captured = kind == "thread" and plan.capture
    if captured:
        capture_mod.install()
    workers: Any = (
        _ThreadWorkers(plan, n, token)
        if kind == "thread"
        else _ProcessWorkers(plan, n, token, start_method)
    )
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
                cancel_deadline = time.monotonic() + grace
                if kind == "process":
                    workers.cancel_event.set()
                for wid in live:
                    workers.send(wid, None)
            try:
                msg = workers.out.get(timeout=0.05)
            except queue.Empty:
                if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                    break
                for wid in list(live):
                    code = workers.dead(wid)
                    if code is not None:  # died without saying so: killed, segfault, os._exit
                        lost = _worker_died(plan, wid, code, assigned[wid], pending)
                        live.discard(wid)
                        if lost is not None:
                            yield lost
                        if pending and not token.cancelled:
                            workers.restart(wid)
                            live.add(wid)
                            feed(wid)
                continue
            if isinstance(msg, tuple) and msg[0] == "batch":
                for item in pickle.loads(msg[1]):
                    result = handle(item)
                    if result is not None:
                        yield result
            else:
                result = handle(msg)
                if result is not None:
                    yield result
    finally:
        expired = cancel_deadline is not None and time.monotonic() > cancel_deadline
        workers.stop(grace_expired=expired or bool(live and token.cancelled))
        if captured:
            capture_mod.uninstall()
    if fatal:
        raise PluginError(fatal)


def _worker_died(
    plan: RunPlan, wid: int, code: int, assigned: deque[tuple[str, int]], pending: deque[tuple[str, int]]
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
