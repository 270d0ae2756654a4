"""A sys.stderr with a real file descriptor while worker processes start, whatever the host
program (a terminal UI, a notebook) put in its place."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()


def _fd_of(stream: Any) -> int | None:
    try:
        fd = stream.fileno()
    except Exception:  # no fileno at all: multiprocessing skips such a stream itself
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


class _StderrWithFd:
    """The current sys.stderr (writes still go where they went) reporting the process's
    real stderr descriptor, or none at all, instead of an invalid one."""

    def __init__(self, wrapped: Any, fd: int | None) -> None:
        self._wrapped = wrapped
        self._fd = fd

    def fileno(self) -> int:
        if self._fd is None:
            raise io.UnsupportedOperation("no file descriptor behind sys.stderr")
        return self._fd

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


@contextmanager
def stderr_with_fd() -> Iterator[None]:
    """Within the block, sys.stderr.fileno() is valid or raises.

    multiprocessing hands ``sys.stderr.fileno()`` to the helper processes it spawns (the
    resource tracker) and fails with "bad value(s) in fds_to_keep" when it is -1, which is
    what Textual's replacement stream returns; starting workers must not depend on that.
    """
    with _lock:
        current = sys.stderr
        if current is None or _fd_of(current) is not None:
            yield
            return
        proxy = _StderrWithFd(current, _fd_of(sys.__stderr__))
        sys.stderr = proxy  # type: ignore[assignment]
        try:
            yield
        finally:
            if sys.stderr is proxy:  # someone else swapped it meanwhile: leave theirs
                sys.stderr = current
