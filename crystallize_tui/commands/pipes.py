"""Output into a pipe that the reader closed (``| head``): stop quietly, as standard tools do.

Python ignores SIGPIPE, so a write to a closed pipe raises ``BrokenPipeError`` wherever it
happens: in a progress line, in the statistics table, or inside the user's own ``print()``
echoed with ``-v`` (which would then count as the replicate failing). The guard stands in
for ``sys.stdout`` and ``sys.stderr`` while a subcommand runs: the first broken write is
swallowed, later output is dropped, and the command is told to stop (a run is cancelled:
what finished stays in the store). The command then exits with 141 (128 + SIGPIPE), the
status a shell reports for a tool that SIGPIPE stopped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

EXIT_PIPE_CLOSED = 141

_on_close: list[Callable[[], None]] = []
_closed = False


class PipeGuard:
    """A text stream that turns a closed pipe into silence and a stop request."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def write(self, text: str) -> int:
        if not _closed:
            try:
                self._real.write(text)
            except (BrokenPipeError, ValueError):
                # ValueError: the stream was closed after an earlier broken flush.
                _pipe_closed(self._real)
        return len(text)

    def flush(self) -> None:
        if not _closed:
            try:
                self._real.flush()
            except (BrokenPipeError, ValueError):
                _pipe_closed(self._real)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._real, attr)


def _pipe_closed(stream: Any) -> None:
    global _closed
    _closed = True
    for stream_ in (sys.__stdout__, sys.__stderr__, stream):
        _silence(stream_)
    for callback in list(_on_close):
        callback()


def _silence(stream: Any) -> None:
    # Point the descriptor at /dev/null: what is still buffered (flushed at exit) then goes
    # nowhere instead of raising again as "Exception ignored ... BrokenPipeError".
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    except OSError:
        pass
    finally:
        os.close(devnull)


def closed() -> bool:
    """Whether a reader closed our output during this command."""
    return _closed


def broken(exc: BaseException) -> bool:
    """Whether ``exc`` is the closed pipe (raised by a write that bypassed the guard)."""
    if isinstance(exc, BrokenPipeError):
        _pipe_closed(sys.stdout)
        return True
    return _closed


@contextmanager
def when_closed(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` (e.g. cancel the run) if the pipe closes within the block."""
    _on_close.append(callback)
    try:
        yield
    finally:
        _on_close.remove(callback)


@contextmanager
def guarded() -> Iterator[None]:
    """Put guards in place of sys.stdout and sys.stderr for the block."""
    global _closed
    _closed = False
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PipeGuard(out), PipeGuard(err)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout, sys.stderr = out, err
