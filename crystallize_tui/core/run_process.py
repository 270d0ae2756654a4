"""A run in its own process, started and supervised by a window: its events, its end, its death in words.

The UI launches every run this way (``crystallize run NAME --run-id ID --options-json ...
--channel-fd N``), so user code never runs in the UI's interpreter. The run process sends
every event of the run on the channel, then one final message: :class:`RunEnded` (the
Result), :class:`RunRefused` (a resume refused, with what changed) or :class:`RunErrored`
(a plugin or store failure). When the process dies without one (a segfault, ``os._exit``,
out of memory, kill -9, or terminated after a cancel it ignored), the parent makes a
:class:`RunDied` that says how and which replicates were running.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import events as ev
from .chain_process import ChainStopped
from .child import ChildProcess, crash_site, describe_exit, parent_channel
from .errors import ResumeRefused

CANCEL_GRACE_S = 5.0  # after a cancel request, a run process that has not stopped is terminated
LOG_LINES = 80  # faulthandler dumps every thread: enough for its header and the step's frames
POLL_S = 0.1  # how often the reader looks whether the window detached meanwhile
OPTION_KEYS = ("replicates", "seed", "treatments", "overrides", "workers", "backend", "resume",
               "force", "until", "max_replicates", "correction", "confirm", "with_upstream",
               "resume_upstream")


@dataclass(frozen=True)
class ReplicateState:
    """Sent ahead of the ordered events while the run holds them for a group commit: a
    replicate started (``running``) or its steps returned. Only tells which one a process
    that dies was in; the events that follow say the rest."""

    condition: str | None
    replicate: int | None
    running: bool


@dataclass(frozen=True)
class RunEnded:
    """The run returned (completed, failed replicates, or cancelled): its Result."""

    result: Any


@dataclass(frozen=True)
class RunRefused:
    """A resume was refused: the experiment changed since the run ran."""

    message: str
    run_id: str
    changes: list[str]

    def error(self) -> ResumeRefused:
        return ResumeRefused(self.message, run_id=self.run_id, changes=self.changes)


@dataclass(frozen=True)
class RunErrored:
    """The run could not start or stopped on an error outside the steps (plugin, store, config)."""

    error: str


@dataclass(frozen=True)
class RunDied:
    """The run process ended without a final message."""

    exit_code: int | None
    how: str  # "killed by SIGSEGV (signal 11)", "exited with code 3"
    running: list[tuple[str, int]]  # (condition, replicate) started and not finished
    finished: int  # replicates this process finished (committed before announced)
    log_tail: list[str] = field(default_factory=list)
    terminated: bool = False  # we ended it: a cancel it did not obey within the grace period

    def describe(self) -> str:
        """"run process killed by SIGSEGV (signal 11) while running baseline replicate 2"."""
        text = f"run process {self.how}"
        if self.terminated:
            text = f"run process did not stop within {CANCEL_GRACE_S:.0f} s of the cancel: terminated"
        if self.running:
            named = ", ".join(f"{c} replicate {r}" for c, r in self.running[:4])
            more = f" and {len(self.running) - 4} more" if len(self.running) > 4 else ""
            text += f" while running {named}{more}"
        site = crash_site(self.log_tail)
        if site is not None and not self.terminated:  # faulthandler named the user's line
            where, _, function = site.rpartition(" in ")
            path, _, line = where.rpartition(":")
            text += f" (at {os.path.basename(path)}:{line} in {function})"
        return text


def options_json(options: dict[str, Any]) -> str:
    """The run options the window chose, as the run process reads them. Override values
    travel as YAML (the language they were written in: a date or a nested list comes back
    as the same value, which JSON could not carry). Unknown keys are refused here."""
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ValueError(f"run options not passed to a run process: {', '.join(unknown)}")
    chosen = {k: v for k, v in options.items() if v is not None}
    if chosen.get("overrides"):
        chosen["overrides"] = {key: yaml.safe_dump(value) for key, value in chosen["overrides"].items()}
    return json.dumps(chosen)


def read_options(text: str) -> dict[str, Any]:
    """``options_json`` read back, checked (the run process's side)."""
    options = json.loads(text)
    if not isinstance(options, dict) or set(options) - set(OPTION_KEYS):
        raise ValueError(f"--options-json: expected an object with keys among {OPTION_KEYS}")
    if options.get("overrides"):
        options["overrides"] = {key: yaml.safe_load(value)
                                for key, value in options["overrides"].items()}
    return options


class RunProcess:
    """One run process launched by this window; read :meth:`messages` in one thread."""

    def __init__(self, child: ChildProcess, run_id: str, store: Any) -> None:
        self.child = child
        self.run_id = run_id
        self.store = store
        self.running: dict[tuple[str, int], None] = {}  # started, not finished (in order)
        self.finished = 0
        self.cancel_requested = False
        # The run going now: a chain (--with-upstream) runs its producers' first, each with
        # an id of its own; a cancel is asked of it (core/chain_process.py stops the chain).
        self.current_run_id: str | None = None
        self.terminated = False
        self._detached = threading.Event()
        self._lock = threading.Lock()

    @classmethod
    def launch(cls, root: Path, store: Any, experiment_name: str,
               options: dict[str, Any]) -> RunProcess:
        """Start ``crystallize --root R --store S run NAME`` with ``options`` (OPTION_KEYS,
        and ``run_id``) in a process of its own session; its stdout/stderr go to the run's
        log file."""
        from ..commands.common import Workspace
        from ..commands.live import log_path, new_run_id

        store_path = Path(store.path)
        ws = Workspace(root=Path(root), store_path=store_path)
        options = dict(options)
        run_id = options.pop("run_id", None) or new_run_id()  # a fixed id: screenshots
        if options.get("resume"):  # the run a resume continues: the latest one (as the engine does)
            runs = store.runs(experiment_name) if store_path.exists() else []
            run_id = runs[0].run_id if runs else run_id
        args = ["crystallize_tui.cli", "--root", str(root), "--store", str(store_path),
                "run", experiment_name, "--run-id", run_id, "--options-json", options_json(options)]
        # The window's working directory, as when the run ran in its process: a step's
        # relative paths mean what they meant before.
        child = ChildProcess.spawn(args, log_path=log_path(ws, run_id))
        return cls(child, run_id, store)

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def exit_code(self) -> int | None:
        return self.child.returncode

    @property
    def alive(self) -> bool:
        return self.child.returncode is None

    def running_replicates(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self.running)

    def batches(self) -> Iterator[list[Any]]:
        """The run's messages in the batches they came in, oldest first; once the process is
        gone without a final message, a last batch holding a :class:`RunDied`. Ends early
        (without one) when the window :meth:`detach` es."""
        channel = self.child.channel
        final = False
        try:
            while not self._detached.is_set():
                try:
                    if not channel.poll(POLL_S):
                        continue
                    data = channel.recv_bytes()
                except (EOFError, OSError):
                    break
                batch = pickle.loads(data)
                self._track(batch)
                final = final or any(isinstance(m, (RunEnded, RunRefused, RunErrored, ChainStopped))
                                     for m in batch)
                yield batch
        finally:
            if self._detached.is_set():
                self.child.detach()
        if self._detached.is_set() or final:
            if final:
                self.child.wait()  # it exits right after its final message: reap it
            return
        code = self.child.wait()
        yield [RunDied(code, describe_exit(code), self.running_replicates(), self.finished,
                       self.child.log_tail(LOG_LINES), self.terminated)]

    def messages(self) -> Iterator[Any]:
        """Every message, one at a time (see :meth:`batches`)."""
        for batch in self.batches():
            yield from batch

    def _track(self, batch: list[Any]) -> None:
        with self._lock:
            for m in batch:
                if isinstance(m, ev.RunStarted):
                    self.current_run_id = m.run_id
                    self.running.clear()  # a chain's next run: none of this one is running
                elif isinstance(m, ev.ReplicateStarted):
                    self.running[(m.treatment or "", m.replicate or 0)] = None
                elif isinstance(m, (ev.ReplicateFinished, ev.ReplicateFailed)):
                    self.running.pop((m.treatment or "", m.replicate or 0), None)
                    self.finished += 1
                elif isinstance(m, ReplicateState):
                    key = (m.condition or "", m.replicate or 0)
                    if m.running:
                        self.running[key] = None
                    else:
                        self.running.pop(key, None)

    def wait(self, timeout: float | None = None) -> int | None:
        return self.child.wait(timeout)

    def cancel(self, grace: float = CANCEL_GRACE_S) -> None:
        """Ask the run to cancel, as ``crystallize cancel`` does (it stops at its next
        cancellation point, finished replicates kept); if it has not stopped after
        ``grace`` seconds (a step that hangs), terminate its process group."""
        self.cancel_requested = True
        try:
            self.store.request_cancel(self.current_run_id or self.run_id)
        except Exception:  # noqa: S110 - not recorded yet, or the store is gone: the timer ends it
            pass
        timer = threading.Timer(grace, self._terminate_if_alive)
        timer.daemon = True
        timer.start()

    def _terminate_if_alive(self) -> None:
        if self.alive:
            self.terminated = True
            self.child.terminate()

    def detach(self) -> None:
        """Stop listening: the run goes on by itself (the store has it); the reader ends."""
        self._detached.set()


class WindowChannel:
    """The run process's side: the window that launched it (``--channel-fd``), if any.

    The sender is opened only by :meth:`open` (a background thread starts with it, and a
    run that forks its workers must choose before any thread exists)."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        self.sender: Any = None

    def __bool__(self) -> bool:
        return self.fd is not None

    def open(self) -> None:
        if self.fd is not None and self.sender is None:
            self.sender = parent_channel(self.fd)

    def subscribers(self) -> list[Any]:
        """The run's subscriber that forwards every event to the window (none without one)."""
        if self.fd is None:
            return []
        self.open()
        emit, send_now = self.sender.emit, self.sender.send_now

        def forward(event: Any) -> None:
            # A replicate's start goes at once: should the process die in it, the window
            # knows which one was running (a buffered event would die with the process).
            (send_now if type(event) is ev.ReplicateStarted else emit)(event)

        def replicate_state(condition: str | None, replicate: int | None, running: bool) -> None:
            # While the run holds events for a group commit (core/runner.py), it says here
            # at once which replicate started or returned; sent now for the same reason.
            send_now(ReplicateState(condition, replicate, running))

        forward.replicate_state = replicate_state  # type: ignore[attr-defined]
        return [forward]

    def send_final(self, message: Any) -> None:
        if self.fd is None:
            return
        self.open()
        try:
            pickle.dumps(message)
        except Exception:  # a Result holding something unpicklable: the window loads it from the store
            message = RunErrored(f"the run ended but its result could not be sent: {message!r}")
        self.sender.send_now(message)
        self.sender.close()

    def finished(self, result: Any) -> None:
        self.send_final(RunEnded(result))

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, ResumeRefused):
            self.send_final(RunRefused(str(exc), exc.run_id, list(exc.changes)))
        else:
            self.send_final(RunErrored(f"{type(exc).__name__}: {exc}"))
