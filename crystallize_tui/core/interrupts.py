"""Ctrl-C during a run: the signal cancels the run; KeyboardInterrupt is raised only inside
a step's own code, never in the engine's bookkeeping (store writes, worker start-up)."""

from __future__ import annotations

import functools
import os
import signal
import sysconfig
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

from .cancel import CancelToken

# Frames of the package: a Ctrl-C landing in them only cancels, the engine notices at its
# next cancellation point and winds the run down in order.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_step_codes: set[CodeType] = set()  # the functions that call a user's step
_STDLIB_DIRS = tuple({os.path.join(sysconfig.get_paths()[key], "") for key in ("stdlib", "platstdlib")})

_depth = 0  # nesting of guard() in the main thread
_installed = False
_previous: Any = None
_pending = False  # a Ctrl-C arrived and was not yet turned into a KeyboardInterrupt
_tokens: set[CancelToken] = set()


def register_step_caller(code: CodeType) -> None:
    """Mark a function whose callees are the user's step code (where Ctrl-C may raise)."""
    _step_codes.add(code)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def pending() -> bool:
    """True once a Ctrl-C arrived that no KeyboardInterrupt has reported yet."""
    return _pending


def take() -> bool:
    """Report a pending Ctrl-C once: True if there was one (it is then cleared). Only the
    main thread receives Ctrl-C, so elsewhere there is never one to report."""
    global _pending
    if not _main_thread():
        return False
    was, _pending = _pending, False
    return was


def raise_if_pending() -> None:
    """Raise KeyboardInterrupt for a Ctrl-C that arrived before anything started."""
    if take():
        raise KeyboardInterrupt


@contextmanager
def guard(token: CancelToken | None = None) -> Iterator[None]:
    """While inside, Ctrl-C cancels ``token`` (and the tokens of guards nested in this one).

    Only in the main thread and only when SIGINT has Python's default handler (a program
    with its own handler keeps it). A second Ctrl-C raises KeyboardInterrupt at once. A
    Ctrl-C that nothing reported (no run was going) is raised when the outermost guard
    exits normally, so it is never lost.
    """
    global _depth, _installed, _previous, _pending
    if not _main_thread():
        yield
        return
    outermost = _depth == 0
    if outermost and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _previous = signal.signal(signal.SIGINT, _on_sigint)
        _installed = True
    _depth += 1
    if token is not None:
        _tokens.add(token)
        if _pending:
            token.cancel()
    finished = False
    try:
        yield
        finished = True
    finally:
        if token is not None:
            _tokens.discard(token)
        _depth -= 1
        if outermost:
            if _installed and _main_thread():  # a generator may be finalised elsewhere
                signal.signal(signal.SIGINT, _previous)
                _installed = False
            unreported = take()
            if finished and unreported:
                raise KeyboardInterrupt


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` inside :func:`guard`: a command that opens a store and starts a run."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with guard():
            return fn(*args, **kwargs)

    return wrapper


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _pending:  # the second Ctrl-C: the user insists
        raise KeyboardInterrupt
    _pending = True
    for token in list(_tokens):
        token.cancel()
    if _in_user_code(frame):
        raise KeyboardInterrupt


def _in_user_code(frame: FrameType | None) -> bool:
    """True when the signal landed in code a KeyboardInterrupt may stop as it would without
    Crystallize: the user's own code or a library it called (a step, a datasource, a module
    being imported), or the standard library while a step called it (a step's sleep or
    subprocess). Not the package, and not the standard library working for the engine
    (starting worker processes, waiting on pipes)."""
    if frame is None:
        return False
    filename = frame.f_code.co_filename
    if filename.startswith(_PACKAGE_DIR):
        return False
    if not _is_stdlib(filename):
        return True
    saw_package = False
    while frame is not None:
        code = frame.f_code
        if code in _step_codes:
            return True
        saw_package = saw_package or code.co_filename.startswith(_PACKAGE_DIR)
        frame = frame.f_back
    return not saw_package  # not called by the engine at all (a stream() loop's body)


def _is_stdlib(filename: str) -> bool:
    if filename.startswith("<"):  # frozen modules (importlib), <string>
        return True
    return filename.startswith(_STDLIB_DIRS) and "-packages" not in filename
