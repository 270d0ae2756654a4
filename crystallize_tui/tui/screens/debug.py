"""Debug one replicate in a child process: every event and print line as it happens, the
user's traceback if it raises, how the process died if it crashed; stoppable when it hangs."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from rich.traceback import Traceback
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Log, OptionList, Static

from ...commands.debug_child import (
    DebugFailure,
    DebugSource,
    child_args,
    failure_of,
)
from ...core import events as ev
from ...core.child import ChildProcess, crash_site, describe_exit
from ...core.experiment import describe
from ..bridge import RunBridge
from ..widgets.footer import KeyFooter


class _DebugLines(RunBridge):
    """Like the run bridge, but keeps a line for every event (steps, metrics too)."""

    def note(self, text: str) -> None:
        with self._lock:
            self._lines.append(("", text))

    def __call__(self, event: ev.Event) -> None:
        line = describe(event)
        if isinstance(event, ev.Output):
            line = f"[{event.treatment} #{event.replicate}] {event.text}"
        if line is None:
            return
        with self._lock:
            self._lines.append((event.treatment or "", line))


class PickConditionScreen(ModalScreen[str | None]):
    """Choose which condition to debug."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, experiment: Any) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Debug which condition of {self.experiment.name}?", style="bold"))
            yield OptionList(*self.experiment.conditions, id="conditions")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.prompt))


def _readable(child: ChildProcess) -> Iterator[Any]:
    """The child's messages; a batch this process cannot unpickle (an event holding an
    object of a class only the child has) becomes a line saying so, and the rest still
    arrives."""
    while True:
        try:
            data = child.channel.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            batch = pickle.loads(data)
        except Exception as exc:
            yield f"(some events of the debug could not be shown here: {type(exc).__name__}: {exc})"
            continue
        yield from batch


class DebugProcessDied(Exception):
    """The debug process ended without a result: how (a signal, an exit code) and where."""

    def __init__(self, how: str, where: str | None, log: list[str], log_path: Path) -> None:
        super().__init__(f"the debug process was {how}" + (f" at {where}" if where else ""))
        self.how = how
        self.where = where
        self.log = log
        self.log_path = log_path


@dataclass
class _Started(Message):
    generation: int
    source: DebugSource


@dataclass
class _Finished(Message):
    generation: int
    replicate: Any


@dataclass
class _Failed(Message):
    generation: int
    failure: DebugFailure | None = None  # the step raised (or the child could not load it)
    died: DebugProcessDied | None = None  # the process ended without a result


class DebugScreen(Screen):
    """One replicate, serially, in a process of its own, with everything it does shown as it
    happens: a crash or a hang in the user's code ends that process, never the app."""

    BINDINGS = [
        Binding("r", "again", "Run again"),
        Binding("c", "stop", "Stop", tooltip="End the debug process (a hung step)"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, experiment: Any, treatment: str, replicate: int = 0, *,
                 run_id: str | None = None, overrides: dict[str, Any] | None = None,
                 seed: int | None = None) -> None:
        super().__init__()
        self.experiment = experiment
        self.treatment = treatment
        self.replicate = replicate
        self.run_id = run_id  # the run this replicate belongs to: its config and seed are used
        self.overrides = dict(overrides or {})
        self.seed = seed
        self.source: DebugSource | None = None
        self.lines = _DebugLines()
        self.outcome: Any = None
        self.error: BaseException | None = None
        self.stopped = False  # ended by the user (c, or leaving the screen)
        self.child: ChildProcess | None = None
        self.startup_seconds: float | None = None  # spawn to the child's first message
        self._generation = 0  # each "again" starts a new child; older ones' news is dropped
        self._ended_generation = 0  # the child of this generation is to end (c, back) even
        # if it is still starting: the worker ends it once it has its pid
        self.running = False  # a child of the current generation has not told its end yet
        self._lock = threading.Lock()
        self._ended: set[int] = set()  # pids of children we ended: their logs tell nothing

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="debug-status")
            yield Log(id="debug-log", max_lines=10_000, classes="pane")
            with VerticalScroll(id="traceback-pane", classes="pane"):
                yield Static(id="traceback")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"debug {self.experiment.name}"
        self.sub_title = f"{self.treatment} #{self.replicate}"
        self.query_one("#debug-log").border_title = "events and output"
        self.query_one("#traceback-pane").border_title = "result"
        self.set_interval(1 / 15, self._drain)
        self.action_again()

    def _status(self, text: str, style: str) -> None:
        self.query_one("#debug-status", Static).update(Text(text, style=style))

    def action_again(self) -> None:
        self._end_child()
        with self._lock:
            self._generation += 1
            generation = self._generation
        self.lines = _DebugLines()
        self.outcome = self.error = self.source = None
        self.stopped = False
        self.running = True
        self.refresh_bindings()
        self.query_one("#debug-log", Log).clear()
        self.query_one("#traceback", Static).update("")
        self._status(f"starting a process to debug {self.treatment} #{self.replicate}…", "cyan")
        self.execute(generation, self.lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":  # only while a debug process runs
            return self.running and not self.stopped
        return True

    def action_stop(self) -> None:
        if self.running and not self.stopped:
            self.stopped = True
            self.refresh_bindings()
            self._status(f"stopping {self.treatment} #{self.replicate}…", "yellow")
            self._end_child()

    def _end_child(self) -> None:
        """End the current child, or have its worker end it once started. SIGTERM to its
        process group now, from the UI thread (a quitting app may not wait); SIGKILL, if
        needed, from a thread."""
        with self._lock:
            self._ended_generation = self._generation
            child = self.child
        if child is None or child.returncode is not None:
            return
        self._ended.add(child.pid)
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        threading.Thread(target=child.terminate, daemon=True, name="debug-terminate").start()

    def _log_path(self, generation: int) -> Path:
        """A log per child: an older child, ending, removes its own log, not the next one's."""
        folder = Path(self.app.workspace.store_path).parent / "debug"
        name = f"{self.experiment.name}-{self.treatment}-{self.replicate}-{os.getpid()}-{generation}"
        return folder / f"{name}.log"

    @work(thread=True, exit_on_error=False, group="debug")
    def execute(self, generation: int, lines: _DebugLines) -> None:
        ws = self.app.workspace
        log_path = self._log_path(generation)
        try:
            log_path.unlink(missing_ok=True)  # the tail shown is this child's, not the last one's
            began = time.monotonic()
            child = ChildProcess.spawn(
                child_args(ws.root, ws.store_path, self.experiment.name, self.treatment,
                           self.replicate, run_id=self.run_id, overrides=self.overrides,
                           seed=self.seed),
                log_path=log_path)
        except Exception as exc:  # no python, no room for the log: said, never fatal
            self.post_message(_Failed(generation, failure=failure_of(exc)))
            return
        with self._lock:
            stale = generation != self._generation  # "again" was pressed while it started
            if not stale:
                self.child = child
            end_now = stale or generation == self._ended_generation  # c or back, meanwhile
        if end_now:
            self._ended.add(child.pid)
            child.terminate()
            if stale:
                return
        ended = False
        for item in _readable(child):
            if isinstance(item, str):  # a batch we could not unpickle: said in the log
                lines.note(item)
            elif isinstance(item, ev.Event):
                lines(item)
            elif item[0] == "source":
                self.startup_seconds = time.monotonic() - began
                self.post_message(_Started(generation, item[1]))
            elif item[0] == "done":
                ended = True
                self.post_message(_Finished(generation, item[2]))
            elif item[0] == "failed":
                ended = True
                self.post_message(_Failed(generation, failure=item[1]))
        code = child.wait()
        if not ended:
            log = child.log_tail(400)
            fatal = next((i for i, line in enumerate(log) if line.startswith("Fatal Python error")), None)
            died = DebugProcessDied(describe_exit(code), crash_site(log),
                                    log[fatal:] if fatal is not None else log[-40:], log_path)
            self.post_message(_Failed(generation, died=died))
        if ended or child.pid in self._ended:
            log_path.unlink(missing_ok=True)  # kept only to tell a death

    def _drain(self) -> None:
        if not self.query("#debug-log"):
            return  # fired while the screen is being taken down
        batch = self.lines.drain()
        if batch.lines:
            self.query_one("#debug-log", Log).write_lines([t for _, t in batch.lines])

    @on(_Started)
    def _started(self, message: _Started) -> None:
        if message.generation != self._generation:
            return
        self.source = message.source
        self._status(f"running {self.treatment} #{self.replicate} ({message.source.note})…", "cyan")

    @on(_Finished)
    def _done(self, message: _Finished) -> None:
        if message.generation != self._generation:
            return
        self.running = False
        self.refresh_bindings()
        self._drain()
        rep = self.outcome = message.replicate
        shown = ", ".join(f"{k} = {v!r}" for k, v in rep.metrics.items()) or "no metrics"
        source = self.source
        note = f" · {source.note}" if source is not None else ""
        status = Text(f"{self.treatment} #{self.replicate} finished in {rep.duration:.1f}s "
                      f"(seed {rep.seed}){note}", style="green")
        if source is not None and source.stored_seed not in (None, rep.seed):
            status.append(f" · the run stored seed {source.stored_seed} for this replicate",
                          style="bold red")
        self.query_one("#debug-status", Static).update(status)
        self.query_one("#traceback", Static).update(Text(f"metrics: {shown}"))

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        if message.generation != self._generation:
            return
        self.running = False
        self.refresh_bindings()
        self._drain()
        pane = self.query_one("#traceback", Static)
        died = message.died
        if died is not None:
            self.error = died
            if self.stopped:
                self._status(f"{self.treatment} #{self.replicate} stopped: the debug process was "
                             f"{died.how} (r runs it again)", "yellow")
                return
            self._status(f"{self.treatment} #{self.replicate}: {died}", "bold red")
            shown = Text(f"the last lines of its log, {died.log_path}:\n", style="dim")
            shown.append("\n".join(died.log) or "(empty)")
            pane.update(shown)
            return
        failure = message.failure
        assert failure is not None
        self.error = failure.exception()
        self._status(f"{self.treatment} #{self.replicate} failed: {failure.summary}", "bold red")
        pane.update(Traceback(trace=failure.trace, width=None, show_locals=False, theme="ansi_dark"))

    def action_back(self) -> None:
        self._end_child()  # a debug is not a run: it does not outlive its window
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._end_child()
