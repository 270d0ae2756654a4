"""Confirm on fresh seeds in the UI: the dialog saying what will be locked, and the run screen's confirmatory report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core.confirm import CONFIRMATORY, describe_run, fresh_stream, verdicts_hold
from ...core.plan import MAX_REPLICATES
from .dialogs import DialogBody


@dataclass
class StreamFound(Message):
    """The seed stream a confirmatory run would take now (or why it could not be read)."""

    text: str


def locked_lines(experiment: Any) -> list[str]:
    """What the lock covers, in words: hypotheses, conditions and the base seed."""
    lines = [f"hypothesis: {h.describe()}" for h in experiment.hypotheses]
    lines.append(f"conditions: {', '.join(experiment.conditions)}")
    lines.append("configs and step code (fingerprinted: the final report says what changed since)")
    return lines


class ConfirmRunScreen(ModalScreen[dict[str, Any] | None]):
    """Confirm ``experiment``'s declared hypotheses on fresh seeds: dismissed with the run's
    choices (``confirm`` and ``replicates``) or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("ctrl+r", "confirm_run", "Confirm")]

    def __init__(self, experiment: Any) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        exp = self.experiment
        # What is locked scrolls between the title and the buttons (80x24).
        with Vertical(classes="dialog launch", id="confirm-dialog"):
            yield Label(Text(f"Confirm {exp.name} on fresh seeds", style="bold"),
                        classes="dialog-head")
            with DialogBody(classes="dialog-body"):
                yield Static("The declared hypotheses again, on seeds no earlier run of this "
                             "experiment used; locked before the first replicate:")
                yield Static("\n".join(locked_lines(exp)), id="locked")
                yield Static(f"seed stream: base seed {exp.seed}, looking for the next fresh "
                             "stream…", id="stream")
                with Horizontal(classes="field"):
                    yield Label("replicates per condition")
                    yield Input(str(exp.replicates), id="confirm-replicates", type="integer")
                yield Static(id="confirm-error")
            with Horizontal(classes="buttons"):
                yield Button("Confirm (enter)", id="go", variant="success")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-replicates", Input).focus()
        self.find_stream(self.experiment.replicates)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def find_stream(self, replicates: int) -> None:
        """The store is read off the UI thread: every seed of every earlier run."""
        exp = self.experiment
        try:
            runs = exp.store.runs(exp.name)
            stream = fresh_stream(exp.store, exp.name, exp.seed, replicates)
        except Exception as exc:  # noqa: BLE001 - no store yet, or a damaged one: say so
            self.post_message(StreamFound(f"seed stream: chosen at launch ({exc})"))
            return
        self.post_message(StreamFound(
            f"seed stream: {stream} of base seed {exp.seed} (disjoint from the seeds of the "
            f"{len(runs)} earlier run(s); checked again at launch)"))

    @on(StreamFound)
    def _stream_found(self, message: StreamFound) -> None:
        self.query_one("#stream", Static).update(message.text)

    def _replicates(self) -> int | None:
        raw = self.query_one("#confirm-replicates", Input).value.strip()
        try:
            value = int(raw)
        except ValueError:
            value = 0
        error = self.query_one("#confirm-error", Static)
        if not 1 <= value <= MAX_REPLICATES:
            shown = repr(raw) if raw else "nothing"
            error.update(Text(f"replicates: enter a whole number from 1 to {MAX_REPLICATES:,} "
                              f"(got {shown})", style="bold red"))
            return None
        error.update("")
        return value

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm_run()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go":
            self.action_confirm_run()
        else:
            self.dismiss(None)

    def action_confirm_run(self) -> None:
        replicates = self._replicates()
        if replicates is not None:
            self.dismiss({"confirm": True, "replicates": replicates})


@dataclass
class ConfirmationReported(Message):
    """A confirmatory run's report: its seeds, its lock, what changed since, and the verdict."""

    lines: list[str]


class ConfirmationReport:
    """The run screen's part (a mixin of RunScreen): once a run has ended or a stored one is
    shown, a confirmatory run says so in the title and adds its report under the verdicts."""

    confirmation_lines: list[str] = []

    @work(thread=True, exclusive=True, group="confirmation", exit_on_error=False)
    def report_confirmation(self, result: Any) -> None:
        """Reads the run's row and checks the lock against today's files: off the UI thread."""
        store = getattr(self.experiment, "store", None)  # type: ignore[attr-defined]
        if store is None:
            return
        try:
            row = store.run_row(result.run_id)
        except Exception:  # noqa: BLE001 - an older store or a vanished run: no report
            return
        if row.get("kind") != CONFIRMATORY:
            return
        try:
            experiment = self.app.current_experiment(self.experiment)  # type: ignore[attr-defined]
            lines = describe_run(row, experiment)
        except Exception as exc:  # noqa: BLE001 - the experiment no longer loads: say so
            lines = describe_run(row, None, missing=f"{type(exc).__name__}: {exc}")
        if result.status == "cancelled":  # no verdict on part of it: it resumes
            lines.append("not confirmed yet: the run did not finish (a resume keeps its "
                         "fresh seeds)")
        elif verdicts_hold(result):
            lines.append("confirmed: every hypothesis supported on fresh seeds")
        else:
            lines.append("not confirmed: not every hypothesis was supported on fresh seeds"
                         + (" (or a replicate failed)" if result.errors else ""))
        self.post_message(ConfirmationReported(lines))  # type: ignore[attr-defined]

    def on_confirmation_reported(self, message: ConfirmationReported) -> None:
        self.confirmation_lines = message.lines
        screen: Any = self
        if "confirmatory" not in (screen.title or ""):
            screen.title = f"{screen.title} · confirmatory"
        self.show_confirmation()
        # The verdict in the status line too: the pane below may be too short for the report.
        status = self.query_one("#run-status", Static)  # type: ignore[attr-defined]
        shown = status.content
        line = shown.copy() if isinstance(shown, Text) else Text(str(shown or ""))
        changed = any(text.startswith("CHANGED") for text in message.lines)
        line.append(f" · {message.lines[-1].partition(':')[0]}"
                    + (" · CHANGED since the lock" if changed else ""), style="bold")
        status.update(line)

    def show_confirmation(self) -> None:
        """Put the report above what the verdicts pane shows (the final table's lines)."""
        if not self.confirmation_lines:
            return
        verdicts = self.query_one("#verdicts", Static)  # type: ignore[attr-defined]
        shown = verdicts.content
        below = shown.copy() if isinstance(shown, Text) else Text(str(shown or ""))
        text = Text("\n".join(self.confirmation_lines), style="bold")
        if below.plain:
            text.append("\n")
            text.append_text(below)
        verdicts.update(text)
