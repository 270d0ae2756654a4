"""Debug one replicate: every event and print line, and the user's traceback if it fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
from ...core.errors import ConfigError
from ...core.experiment import describe
from ...core.fingerprint import canonical_json
from ...core.overrides import apply_overrides
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


@dataclass
class DebugSource:
    """What the debug of one replicate runs with: the config and base seed of the run it
    reproduces (None: the experiment's own), and how the screen names that."""

    config: dict[str, Any] | None
    seed: int | None
    stored_seed: int | None  # the replicate's seed as the store has it, to check against
    note: str


def debug_source(experiment: Any, treatment: str, replicate: int, run_id: str | None,
                 overrides: dict[str, Any] | None, seed: int | None) -> DebugSource:
    """The config and seed replicate ``replicate`` of ``treatment`` ran with in run ``run_id``
    (read from the store: what the run recorded, overrides applied), or, without a run, the
    experiment's config with ``overrides`` and base ``seed``. Reads files and runs user code
    (datasources): call it off the UI thread."""
    store = getattr(experiment, "store", None)
    row = None
    if run_id is not None and store is not None:
        try:
            row = store.run_row(run_id)
        except Exception:  # a live run not yet written, or gone: fall back to its options
            row = None
    current = experiment.resolve_configs([treatment])[treatment]
    if row is None:
        config = apply_overrides({treatment: current}, overrides)[treatment] if overrides else None
        shown = " ".join(f"{k}={v!r}" for k, v in (overrides or {}).items())
        note = f"config of the experiment{' with ' + shown if shown else ''}"
        return DebugSource(config, seed, None, note)
    recorded = json.loads(row["configs"]).get(treatment)
    if recorded is None:
        raise ConfigError(f"run {run_id} has no condition {treatment!r}")
    stored_seed = next((r.seed for r in store.replicates(run_id)
                        if r.treatment == treatment and r.replicate == replicate), None)
    # The store keeps configs as JSON (other values as their repr): when today's resolution,
    # with the run's overrides, gives what the run recorded, run with those exact objects.
    candidates = [current]
    if overrides:
        candidates.insert(0, apply_overrides({treatment: current}, overrides)[treatment])
    config = next((c for c in candidates if canonical_json(c) == canonical_json(recorded)),
                  recorded)
    return DebugSource(config, int(row["base_seed"]), stored_seed, f"config and seed of run {run_id}")


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
            Text(f"running {self.treatment} #{self.replicate} "
                 f"({'config and seed of run ' + self.run_id if self.run_id else 'seed as in a full run'})…",
                 style="cyan"))
        self.execute()

    @work(thread=True, exit_on_error=False, group="debug")
    def execute(self) -> None:
        try:
            source = self.source = debug_source(self.experiment, self.treatment, self.replicate,
                                                self.run_id, self.overrides, self.seed)
            outcome = self.experiment.debug(treatment=self.treatment, replicate=self.replicate,
                                            verbose=False, echo=False, subscribers=[self.lines],
                                            seed=source.seed, config=source.config)
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
        source = self.source
        note = f" · {source.note}" if source is not None else ""
        status = Text(f"{self.treatment} #{self.replicate} finished in {rep.duration:.1f}s "
                      f"(seed {rep.seed}){note}", style="green")
        if source is not None and source.stored_seed not in (None, rep.seed):
            status.append(f" · the run stored seed {source.stored_seed} for this replicate",
                          style="bold red")
        self.query_one("#debug-status", Static).update(status)
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
