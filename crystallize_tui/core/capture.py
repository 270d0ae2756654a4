"""Per-replicate capture of ``print()`` output, correct under threads and asyncio tasks.

While a run captures, ``sys.stdout``/``sys.stderr`` are proxies. A write from a thread (or
an asyncio task) that is running a replicate is split into lines and published as
``Output`` events tagged with that replicate (and, when echoing, still written to the real
stream); a write from anywhere else goes straight through.

Where a write belongs: the replicate in the current context (a ContextVar, set by the async
backend in each replicate's task; a task copies its context, and so does
``asyncio.to_thread``, so interleaved replicates on one loop stay apart), else the one of
the current thread (a thread-local, set by the other backends, cheaper to read).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

from . import events as ev

_local = threading.local()
# The replicate of the running asyncio task (see the module's docstring).
_task_capture: ContextVar[ReplicateCapture | None] = ContextVar("crystallize_capture", default=None)
_install_lock = threading.Lock()
_installed = 0


class ReplicateCapture:
    """Where one replicate's output goes: its tags, the emitter, and partial lines."""

    __slots__ = ("run_id", "treatment", "replicate", "emit", "echo", "_partial")

    def __init__(
        self, run_id: str, treatment: str, replicate: int, emit: Callable[[ev.Event], None], echo: bool
    ) -> None:
        self.run_id = run_id
        self.treatment = treatment
        self.replicate = replicate
        self.emit = emit
        self.echo = echo
        self._partial: dict[str, str] = {}

    def write(self, stream: str, text: str) -> None:
        buffered = self._partial.pop(stream, "") + text
        *lines, rest = buffered.split("\n")
        if rest:
            self._partial[stream] = rest
        now = time.monotonic()
        for line in lines:
            self.emit(ev.Output(self.run_id, self.treatment, self.replicate, now, stream, line))

    def flush_partial(self) -> None:
        """Publish lines the step left without a final newline."""
        now = time.monotonic()
        for stream, rest in self._partial.items():
            self.emit(ev.Output(self.run_id, self.treatment, self.replicate, now, stream, rest))
        self._partial.clear()


class _StreamProxy:
    """Stands in for sys.stdout or sys.stderr while a run captures."""

    def __init__(self, name: str, real: TextIO) -> None:
        self._name = name
        self._real = real

    def write(self, text: str) -> int:
        capture = _routed()
        if capture is None:
            return self._real.write(text)
        # Echo first: publishing a finished line runs subscribers, and what they print must
        # come after the line's own newline, not in the middle of it.
        if capture.echo and self._name not in _echo_closed:
            try:
                self._real.write(text)
            except BrokenPipeError:
                _close_echo(self._name, self._real)
        capture.write(self._name, text)
        return len(text)

    def flush(self) -> None:
        if self._name in _echo_closed:
            return
        try:
            self._real.flush()
        except BrokenPipeError:
            if _routed() is None:
                raise
            _close_echo(self._name, self._real)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._real, attr)


def _routed() -> ReplicateCapture | None:
    """The replicate a write here belongs to: the task's, else the thread's (a paused
    thread, one calling subscribers, writes to the terminal whatever its task is)."""
    if getattr(_local, "paused", False):
        return None
    return _task_capture.get() or getattr(_local, "capture", None)


_echo_closed: set[str] = set()  # "stdout", "stderr": streams whose reader went away


def _close_echo(name: str, real: TextIO) -> None:
    """The reader of the echo went away (``crystallize run -v | head``). The echo is only a
    copy: the output is still captured, so the step goes on rather than failing in its own
    print(); the stream's descriptor is pointed at /dev/null so that what is still buffered
    does not raise again when the process exits."""
    _echo_closed.add(name)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, real.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def install() -> None:
    """Put the proxies in place (reference-counted: nested and concurrent runs share them)."""
    global _installed
    with _install_lock:
        if _installed == 0:
            sys.stdout = _StreamProxy("stdout", sys.stdout)  # type: ignore[assignment]
            sys.stderr = _StreamProxy("stderr", sys.stderr)  # type: ignore[assignment]
        _installed += 1


def uninstall() -> None:
    """Undo one :func:`install`; the last one restores the real streams."""
    global _installed
    with _install_lock:
        _installed -= 1
        if _installed == 0:
            for name in ("stdout", "stderr"):
                current = getattr(sys, name)
                if isinstance(current, _StreamProxy):
                    setattr(sys, name, current._real)


def begin(capture: ReplicateCapture) -> None:
    """Route this thread's output to ``capture`` until :func:`end` (and, once
    :func:`share_with_tasks` is called, that of the tasks and ``asyncio.to_thread`` calls its
    async steps start)."""
    _local.capture = capture


def share_with_tasks() -> None:
    """Route the output of the tasks and ``asyncio.to_thread`` calls started from here on to
    this thread's capture (they copy the context, not the thread's state). Called before a
    replicate's first async step, so a synchronous replicate pays nothing for it."""
    capture = getattr(_local, "capture", None)
    if capture is not None and getattr(_local, "reset", None) is None:
        _local.reset = _task_capture.set(capture)


def current() -> ReplicateCapture | None:
    """The capture this thread's (or task's) output goes to, if any."""
    return _task_capture.get() or getattr(_local, "capture", None)


def pause() -> bool | None:
    """Stop routing this thread's output to its replicate (while subscribers are called: what
    a watcher prints is its own output, and capturing it would feed it back to itself as an
    Output event); give the result to :func:`resume`."""
    if not _installed or getattr(_local, "paused", False):
        return None
    _local.paused = True
    return True


def resume(paused: bool | None) -> None:
    """Undo :func:`pause`."""
    if paused:
        _local.paused = False


def begin_task(capture: ReplicateCapture) -> None:
    """Route the output of the current asyncio task (and of the threads it hands work to
    with ``asyncio.to_thread``) to ``capture``; the task's context ends with it."""
    _task_capture.set(capture)


def flush_current() -> None:
    """Publish this thread's unfinished output line (called at each step's end)."""
    if not _installed:  # no run captures: skip the lookups on the hot path
        return
    capture = current()
    if capture is not None and capture._partial:
        capture.flush_partial()


def end() -> None:
    capture: ReplicateCapture | None = getattr(_local, "capture", None)
    _local.capture = None
    reset = getattr(_local, "reset", None)
    if reset is not None:
        _local.reset = None
        try:
            _task_capture.reset(reset)
        except ValueError:  # set in another context (cannot happen in the engine's own use)
            _task_capture.set(None)
    if capture is not None:
        capture.flush_partial()
