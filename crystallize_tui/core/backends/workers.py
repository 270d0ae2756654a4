"""Worker threads and processes for the pool backends: the loop a worker runs, and the
parent's handle on a set of workers (send a task, receive results and events, notice a
death, restart, stop)."""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from typing import Any

from .. import capture as capture_mod
from .. import resources as resources_mod
from ..cancel import CancelToken
from ..channel import BatchSender
from ..errors import PluginError
from ..plan import ReplicateHooks, RunPlan
from ..replicate import replicate_runner
from ..worker_stderr import stderr_with_fd
from .chunks import GIVE_BACK_SECONDS

# -- worker side ----------------------------------------------------------------------


def _worker_loop(
    plan: RunPlan, wid: int, tasks: Any, emit: Callable[[Any], None], flush: Callable[[Any], None],
    token: CancelToken, running: Any,
) -> None:
    """Run the chunks ``tasks`` hands out until it says stop (None) or the run is cancelled.

    Each result goes out behind the replicate's events as ``("done", wid, result)``; each
    chunk ends with ``("chunk", wid, seconds, ran, given_back)``,
    sent at once. ``running[wid]`` holds 1 + the position (in everything this worker was
    sent) of the replicate it is running, 0 between replicates: if the process dies, the
    parent reads it there to know which replicate killed it.
    """
    run = replicate_runner(plan, emit, token, ReplicateHooks.of(plan.plugins))
    clock = time.perf_counter
    position = 0  # of the next task, counted over every chunk received
    resources = resources_mod.open_for(plan)  # one pool per process: thread workers share it
    try:
        while True:
            chunk = tasks.get()
            if chunk is None or token.cancelled:
                break
            start = clock()
            ran = 0
            last = len(chunk) - 1
            for treatment, k in chunk:
                # Every replicate is a cancellation point, so a chunk's size never delays a cancel.
                if token.cancelled:
                    break
                position += 1
                running[wid] = position
                emit(("done", wid, run(treatment, k)))
                running[wid] = 0
                ran += 1
                if ran <= last and clock() - start > GIVE_BACK_SECONDS:
                    break  # slower than measured: let idle workers take the rest
            position += len(chunk) - ran
            flush(("chunk", wid, clock() - start, ran, len(chunk) - ran))
    except PluginError as exc:
        flush(("fatal", wid, str(exc)))
    except BaseException as exc:  # anything escaping the worker is the engine's bug
        import traceback

        flush(("fatal", wid, f"worker {wid} crashed: {type(exc).__name__}: {exc}\n"
                             f"{traceback.format_exc()}"))
    finally:
        resources.close()
        flush(("exit", wid))


class _PipeInbox:
    """A process worker's task queue. Returns None (stop) when the parent is gone: a
    forked sibling may hold the pipe's other end open, so EOF alone cannot tell."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.parent = os.getppid()

    def get(self) -> Any:
        try:
            while not self.conn.poll(0.5):
                if os.getppid() != self.parent:
                    return None
            return self.conn.recv()
        except (EOFError, OSError):
            return None


def _process_worker_main(
    plan: RunPlan, wid: int, tasks: Connection, out: Connection, cancel_event: Any, running: Any,
    stop_event: Any = None,
) -> None:
    # Ctrl-C reaches the whole process group; the parent turns it into a cancel, so a
    # worker must not die of it mid-replicate on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # blocked by the parent while it started us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    token = CancelToken(stop_event, hard=cancel_event)
    sender = BatchSender(out)
    if plan.capture:
        capture_mod.install()
    try:
        _worker_loop(plan, wid, _PipeInbox(tasks), sender.emit, sender.send_now, token, running)
    finally:
        sender.close()


# -- parent side ----------------------------------------------------------------------


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold off Ctrl-C while a worker process starts: the worker is born with SIGINT
    blocked (a spawned one is importing modules for a while), so it cannot die of a
    Ctrl-C before it ignores SIGINT. The mask is this thread's: the parent still gets
    the signal, at the latest when this ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class SharedFlag:
    """The run's cancel flag as worker processes see it: one byte of shared memory. Every
    replicate checks it, and reading it costs a memory read where a multiprocessing
    Event's ``is_set`` takes a lock."""

    def __init__(self, ctx: Any) -> None:
        self._value = ctx.RawValue("b", 0)

    def set(self) -> None:
        self._value.value = 1

    def is_set(self) -> bool:
        return self._value.value != 0


class ThreadWorkers:
    def __init__(self, plan: RunPlan, n: int, token: CancelToken) -> None:
        self.out: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.inboxes = [queue.SimpleQueue() for _ in range(n)]
        self.running = [0] * n
        self.threads = [
            threading.Thread(
                target=_worker_loop,
                args=(plan, wid, self.inboxes[wid], self.out.put, self.out.put, token, self.running),
                name=f"crystallize-worker-{wid}",
                daemon=True,
            )
            for wid in range(n)
        ]
        for t in self.threads:
            t.start()

    def send(self, wid: int, task: Any) -> None:
        self.inboxes[wid].put(task)

    def receive(self, timeout: float) -> list[Any]:
        """Events and control messages that arrived, waiting up to ``timeout`` for one."""
        try:
            items = [self.out.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(items) < 4096:
            try:
                items.append(self.out.get_nowait())
            except queue.Empty:
                break
        return items

    def dead(self, wid: int) -> int | None:
        return None  # a thread cannot die without sending "exit"

    def restart(self, wid: int) -> None:
        raise AssertionError("thread workers are not restarted")

    def cancel(self) -> None:
        pass  # threads share the run's token

    def stop_starting(self) -> None:
        pass  # likewise

    def stop(self, grace_expired: bool) -> None:
        for box in self.inboxes:
            box.put(None)
        # Threads cannot be killed; ones stuck in a step without a cancellation point
        # are daemons and are left behind when the grace period runs out.


class ProcessWorkers:
    """Worker processes, each with its own pipe for tasks and one for results, so the
    parent knows what each runs and notices a death at once (its sentinel)."""

    def __init__(self, plan: RunPlan, n: int, start_method: str | None) -> None:
        self.ctx = mp.get_context(start_method or default_start_method())
        self.plan = plan
        if self.ctx.get_start_method() != "fork":
            # Started now, not by the first worker's start: starting it unblocks SIGINT,
            # which would let a Ctrl-C kill that worker while it imports (_sigint_blocked).
            with stderr_with_fd():
                resource_tracker.ensure_running()
        self.cancel_event = SharedFlag(self.ctx)
        self.stop_event = SharedFlag(self.ctx)  # a stop rule held: no new replicate, running ones finish
        # What each worker is running (see _worker_loop), in shared memory: written twice
        # per replicate by the worker for nothing, read by the parent only if it dies.
        self.running = self.ctx.RawArray("q", n)
        self.task_conns: list[Any] = [None] * n
        self.result_conns: list[Any] = [None] * n
        self.procs: list[Any] = [None] * n
        for wid in range(n):
            self._start(wid)

    def _start(self, wid: int) -> None:
        with stderr_with_fd():
            self._spawn(wid)

    def _spawn(self, wid: int) -> None:
        for old in (self.task_conns[wid], self.result_conns[wid]):
            if old is not None:
                old.close()
        self.running[wid] = 0
        task_read, task_write = self.ctx.Pipe(duplex=False)
        result_read, result_write = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(
            target=_process_worker_main,
            args=(self.plan, wid, task_read, result_write, self.cancel_event, self.running,
                  self.stop_event),
            name=f"crystallize-worker-{wid}",
            daemon=True,
        )
        with _sigint_blocked():
            proc.start()
        task_read.close()
        result_write.close()
        self.task_conns[wid] = task_write
        self.result_conns[wid] = result_read
        self.procs[wid] = proc

    def send(self, wid: int, task: Any) -> None:
        try:
            self.task_conns[wid].send(task)
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; its sentinel reports it

    def receive(self, timeout: float) -> list[Any]:
        conns = [c for c in self.result_conns if c is not None]
        items: list[Any] = []
        for conn in mp_connection.wait(conns, timeout=timeout):
            while True:
                try:
                    data = conn.recv_bytes()
                except (EOFError, OSError):  # closed: the worker exited or died
                    self.result_conns[self.result_conns.index(conn)] = None
                    break
                items.extend(pickle.loads(data))
                if not conn.poll():
                    break
        return items

    def dead(self, wid: int) -> int | None:
        proc = self.procs[wid]
        if self.result_conns[wid] is not None or proc.is_alive():
            return None  # still has something to say, or still running
        proc.join()
        return proc.exitcode

    def restart(self, wid: int) -> None:
        self._start(wid)

    def cancel(self) -> None:
        self.cancel_event.set()
        self.stop_event.set()

    def stop_starting(self) -> None:
        self.stop_event.set()

    def stop(self, grace_expired: bool) -> None:
        for wid, proc in enumerate(self.procs):
            if proc.is_alive():
                if grace_expired:
                    proc.terminate()
                else:
                    self.send(wid, None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in [*self.task_conns, *self.result_conns]:
            if conn is not None:
                conn.close()


def default_start_method() -> str:
    # fork is fast and runs unguarded scripts, but forking a process with other threads
    # alive (a TUI, a thread pool) can deadlock the child: use spawn there.
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"
