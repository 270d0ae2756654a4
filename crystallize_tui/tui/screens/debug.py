"""Debug one replicate: every event and print line, and the user's traceback if it fails."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.text import Text
from rich.traceback import Traceback
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Log, OptionList, Static

from ...core import events as ev
from ...core.experiment import describe
from ...core.replicate import _ENGINE_DIR
from ..bridge import RunBridge
from ..messages import DebugCompleted, DebugFailed


class _DebugLines(RunBridge):
    """Like the run bridge, but keeps a line for every event (steps, metrics too)."""

    def __call__(self, event: ev.Event) -> None:
        line = describe(event)
        if isinstance(event, ev.Output):
            line = f"[{event.treatment} #{event.replicate}] {event.text}"
        if line is None:
            return
        with self._lock:
            self._lines.append((event.treatment or "", line))


def user_frames(tb: TracebackType | None) -> TracebackType | None:
    """Skip the leading Crystallize frames: the traceback starts at the user's code."""
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_ENGINE_DIR):
        tb = tb.tb_next
    return tb


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


class DebugScreen(Screen):
    """One replicate, serially, with everything it does shown as it happens."""

    BINDINGS = [
        Binding("r", "again", "Run again"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, experiment: Any, treatment: str, replicate: int = 0) -> None:
        super().__init__()
        self.experiment = experiment
        self.treatment = treatment
        self.replicate = replicate
        self.lines = _DebugLines()
        self.outcome: Any = None
        self.error: BaseException | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(id="debug-status")
            yield Log(id="debug-log", max_lines=10_000, classes="pane")
            with VerticalScroll(id="traceback-pane", classes="pane"):
                yield Static(id="traceback")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"debug {self.experiment.name}"
        self.sub_title = f"{self.treatment} #{self.replicate}"
        self.query_one("#debug-log").border_title = "events and output"
        self.query_one("#traceback-pane").border_title = "result"
        self.set_interval(1 / 15, self._drain)
        self.action_again()

    def action_again(self) -> None:
        self.query_one("#debug-log", Log).clear()
        self.query_one("#traceback", Static).update("")
        self.query_one("#debug-status", Static).update(
            Text(f"running {self.treatment} #{self.replicate} (seed as in a full run)…", style="cyan"))
        self.execute()

    @work(thread=True, exit_on_error=False, group="debug")
    def execute(self) -> None:
        try:
            outcome = self.experiment.debug(treatment=self.treatment, replicate=self.replicate,
                                            verbose=False, echo=False, subscribers=[self.lines])
        except BaseException as exc:  # the user's exception: shown, never fatal to the app
            self.post_message(DebugFailed(exc))
        else:
            self.post_message(DebugCompleted(outcome))

    def _drain(self) -> None:
        if not self.query("#debug-log"):
            return  # fired while the screen is being taken down
        batch = self.lines.drain()
        if batch.lines:
            self.query_one("#debug-log", Log).write_lines([t for _, t in batch.lines])

    @on(DebugCompleted)
    def _done(self, message: DebugCompleted) -> None:
        self._drain()
        rep = self.outcome = message.replicate
        shown = ", ".join(f"{k} = {v!r}" for k, v in rep.metrics.items()) or "no metrics"
        self.query_one("#debug-status", Static).update(
            Text(f"{self.treatment} #{self.replicate} finished in {rep.duration:.1f}s "
                 f"(seed {rep.seed})", style="green"))
        self.query_one("#traceback", Static).update(Text(f"metrics: {shown}"))

    @on(DebugFailed)
    def _failed(self, message: DebugFailed) -> None:
        self._drain()
        exc = self.error = message.error
        self.query_one("#debug-status", Static).update(
            Text(f"{self.treatment} #{self.replicate} failed: {type(exc).__name__}: {exc}",
                 style="bold red"))
        trace = Traceback.from_exception(type(exc), exc, user_frames(exc.__traceback__),
                                         width=None, show_locals=False, theme="ansi_dark")
        self.query_one("#traceback", Static).update(trace)

    def action_back(self) -> None:
        self.app.pop_screen()
