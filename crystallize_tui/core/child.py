"""A process of ours that runs user code for a window: own session, a live channel, its death in words.

The UI starts runs and debug sessions this way so that user code never runs in its
interpreter: a step that segfaults, calls ``os._exit``, runs out of memory or hangs takes
down only its child. The child gets the write end of a pipe (``--channel-fd N``) and
sends pickled batches on it (core/channel.py); its stdout and stderr go to a log file, so
a crash message (Python's faulthandler traceback, a C library's complaint) is kept. It
runs in a session of its own: closing the terminal or the window does not end it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .channel import BatchSender, connection_on_fd, receive_batches
from .replicate import ENGINE_DIR

CHANNEL_FLAG = "--channel-fd"
TERMINATE_GRACE_S = 2.0  # after SIGTERM, the child's process group gets SIGKILL


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_exit(code: int | None) -> str:
    """How a process ended, in words: "exited with code 3", "killed by SIGSEGV (signal 11)"."""
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal_name(-code)} (signal {-code})"
    return f"exited with code {code}"


class ChildProcess:
    """A child started with :meth:`spawn`; read its messages in one thread at a time."""

    def __init__(self, proc: subprocess.Popen[bytes], channel: Any, log_path: Path) -> None:
        self.proc = proc
        self.channel = channel
        self.log_path = log_path

    @classmethod
    def spawn(cls, args: list[str], *, log_path: Path, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> ChildProcess:
        """Start ``python -X faulthandler -m <args> --channel-fd N`` in its own session."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        try:
            with open(log_path, "ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-X", "faulthandler", "-m", *args, CHANNEL_FLAG, str(write_fd)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True, pass_fds=(write_fd,), cwd=cwd, env=env,
                )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child holds it now: EOF here once the child is gone
        return cls(proc, connection_on_fd(read_fd, readable=True, writable=False), log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def messages(self) -> Iterator[Any]:
        """Every item the child sends, until it exits (or closes the channel) or we detach."""
        for batch in receive_batches(self.channel):
            yield from batch

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, waiting up to ``timeout`` seconds (None: still running then)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def detach(self) -> None:
        """Stop listening: the child goes on; what it sends from now on is dropped."""
        try:
            self.channel.close()
        except OSError:
            pass

    def terminate(self, grace: float = TERMINATE_GRACE_S) -> int:
        """End the child and whatever it started (its worker processes): SIGTERM to its
        process group, SIGKILL after ``grace`` seconds. Returns its exit code."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            if self.wait(grace) is not None:
                break
        code = self.proc.wait()
        return code

    def log_tail(self, lines: int = 20) -> list[str]:
        """The last lines the child wrote to its stdout/stderr (a crash message, say)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * 1024))
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]


_FRAME = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<function>\S+)')


def crash_site(log: list[str]) -> str | None:
    """Where a crashed step was, from faulthandler's traceback in the child's log: the first
    frame of the crashing thread outside Crystallize, the standard library and installed
    packages ("/path/to/game.py:5 in play"), or None."""
    outside = tuple(p + os.sep for p in {sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})
    frames: list[re.Match[str]] = []
    current = False
    for line in log:
        if line.startswith(("Current thread", "Thread ", "Fatal Python error")):
            current = line.startswith("Current thread")
            continue
        found = _FRAME.match(line)
        if found and current:
            frames.append(found)
    for frame in frames:
        if not frame["file"].startswith((ENGINE_DIR, *outside)):
            return f"{frame['file']}:{frame['line']} in {frame['function']}"
    return None


def parent_channel(fd: int) -> BatchSender:
    """The child's end: a BatchSender on the inherited pipe ``fd``. If the parent stops
    listening (it detached or quit), sends are dropped and the child goes on."""
    os.set_inheritable(fd, False)  # not passed on to the child's own worker processes
    return BatchSender(connection_on_fd(fd, readable=False, writable=True))

