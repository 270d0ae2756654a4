"""Modal dialogs: an error with its traceback, a yes/no question, help, launch options."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from ...core.backends import backend_names
from ...core.backends.dask import installed as dask_installed
from ...core.errors import ConfigError
from ...core.overrides import apply_overrides, parse_assignment
from ...core.stopping import parse_stop


class DialogBody(VerticalScroll, can_focus=False):
    """A dialog's text between its heading and its buttons: it scrolls when the terminal is
    short (app.tcss docks the buttons), and takes no focus, so the buttons keep it."""


class ErrorScreen(ModalScreen[None]):
    """A failed replicate's (or any) error, with its traceback highlighted."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, error: str, traceback: str = "", where: str = "") -> None:
        super().__init__()
        self.error = error
        self.traceback = traceback
        self.where = where  # which replicate failed, when it is one

    @classmethod
    def for_replicate(cls, condition: str, replicate: int, seed: int, error: str,
                      traceback: str) -> ErrorScreen:
        """The error of one failed replicate, named so that it can be found and re-run."""
        return cls(error, traceback, where=f"{condition} · replicate {replicate} · seed {seed}")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            if self.where:
                yield Label(Text.assemble(("failed replicate: ", "bold"), self.where), id="where")
            yield Label(Text.assemble((self.error, "bold red")))  # a span: see theme.py
            with VerticalScroll():
                if self.traceback:
                    yield Static(Syntax(self.traceback.rstrip(), "pytb", word_wrap=True,
                                        theme="ansi_dark"))
            yield Button("Close", id="close")

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            with DialogBody(classes="dialog-body"):  # many stale producers: it scrolls
                yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no", variant="primary")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QuitScreen(ModalScreen[str | None]):
    """Quit while runs are live: leave them running, cancel them, or stay."""

    BINDINGS = [Binding("l", "answer('leave')", "Leave running"),
                Binding("c", "answer('cancel')", "Cancel runs"),
                Binding("s,escape", "answer(None)", "Stay")]

    def __init__(self, names: str) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Runs are still going ({self.names}). Each runs in its own process: "
                         "leave them running (they finish on their own; home shows them live "
                         "next time), or cancel them (finished replicates are kept) and quit?")
            with Horizontal(classes="buttons"):
                yield Button("Leave running (l)", id="leave", variant="primary")
                yield Button("Cancel runs (c)", id="cancel", variant="error")
                yield Button("Stay (s)", id="stay")

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen below and of the app, with what it does."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close"),
                # The list scrolls at 80x24 while Close keeps the focus (enter closes).
                Binding("up,k", "scroll('up')", show=False),
                Binding("down,j", "scroll('down')", show=False),
                Binding("pageup", "scroll('page_up')", show=False),
                Binding("pagedown", "scroll('page_down')", show=False)]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        from rich.console import Group
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold cyan", justify="right", no_wrap=True)
        table.add_column()
        for key, description in self.bindings:
            table.add_row(key, description)
        note = Text("\nctrl+p opens the command palette: every action, searchable. "
                    "The mouse works too.", style="dim")
        # The run screen's keys make it taller than 24 rows: the list scrolls, Close stays.
        with Vertical(classes="dialog"):
            with DialogBody(classes="dialog-body"):
                yield Static(Group(Text("Keys\n", style="bold"), table, note))
            yield Button("Close", id="close", classes="dialog-close")

    def action_scroll(self, how: str) -> None:
        getattr(self.query_one(DialogBody), f"scroll_{how}")(animate=False)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()


class TreatmentList(SelectionList[str]):
    """The launch dialog's treatments: space toggles, enter runs (as in every other field),
    and a chosen treatment shows a tick, not only another colour."""

    BINDINGS = [Binding("enter", "screen.launch", "Run", show=False)]

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 4:  # SelectionList draws [left, inner, right, space, prompt...]
            return strip
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except Exception:  # past the last option: the plain line
            return strip
        mark = "✓" if option.value in self.selected else " "
        segments[1] = segments[1]._replace(text=mark)
        return Strip(segments, strip.cell_length)


class LaunchScreen(ModalScreen[dict[str, Any] | None]):
    """Overrides before launching: replicates, treatments, seed, workers."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+r", "launch", "Run")]

    def __init__(self, experiment: Any) -> None:
        super().__init__()
        self.experiment = experiment
        self.errors: dict[str, str] = {}  # field id -> what is wrong with it

    def compose(self) -> ComposeResult:
        exp = self.experiment
        workers = exp.execution.get("workers", exp.execution.get("concurrency", 1))  # async: in flight
        # The fields scroll between the title and the buttons (80x24: they do not all fit).
        with Vertical(classes="dialog launch"):
            yield Label(Text(f"Run {exp.name}", style="bold"), classes="dialog-head")
            with DialogBody(classes="dialog-body"):
                with Horizontal(classes="field"):
                    yield Label("replicates per condition")
                    yield Input(str(exp.replicates), id="replicates", type="integer")
                with Horizontal(classes="field"):
                    yield Label("base seed")
                    yield Input(str(exp.seed), id="seed", type="integer")
                with Horizontal(classes="field"):
                    yield Label("workers (1 = serial)")
                    yield Input(str(workers), id="workers", type="integer")
                with Horizontal(classes="field"):
                    yield Label("runs on")
                    names = [n for n in backend_names() if n != "dask" or dask_installed()]
                    current = exp.execution["backend"]
                    yield Select([(n, n) for n in dict.fromkeys([*names, current])], id="backend",
                                 value=current, allow_blank=False)
                with Horizontal(classes="field"):
                    yield Label("stop when")
                    rule = exp.stop_rule.describe() if getattr(exp, "stop_rule", None) else ""
                    yield Input(rule, id="until", placeholder="decided, or width=0.02 (replicates: the cap)")
                with Horizontal(classes="field"):
                    yield Label("correct across rows")  # the stop rule's (stats/family.py)
                    fix = exp.stop_rule.correction if getattr(exp, "stop_rule", None) else DEFAULT_CORRECTION
                    yield Select([(name, c) for c, name in CORRECTION_NAMES.items()], id="correction",
                                 value=fix, allow_blank=False)
                with Horizontal(classes="field"):
                    yield Label("set in every config")
                    yield Input("", id="overrides", placeholder="e.g. turn_delay=0.3 players=8")
                yield Label("treatments (space toggles; the baseline always runs)")
                yield TreatmentList(*[(t.name, t.name, True) for t in exp.treatments],
                                    id="treatments")
                yield Static(id="launch-error")
            with Horizontal(classes="buttons"):
                yield Button("Run (enter)", id="run", variant="success")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#replicates", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_launch()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        # A message about a field goes as soon as that field is fixed (and is re-worded
        # while it is still wrong); messages about other fields stay.
        field = event.input.id or ""
        if field not in self.errors:
            return
        del self.errors[field]
        if field in NUMBER_FIELDS:
            self._number(field)
        self._show_errors()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "run":
            self.action_launch()
        else:
            self.dismiss(None)

    def _number(self, field: str) -> int | None:
        raw = self.query_one(f"#{field}", Input).value.strip()
        low = NUMBER_FIELDS[field]
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < low:
            shown = f"{raw!r}" if raw else "nothing"
            self.errors[field] = f"{field}: enter a whole number >= {low} (got {shown})"
            return None
        self.errors.pop(field, None)
        return value

    def _show_errors(self) -> None:
        for field in (*NUMBER_FIELDS, "until", "overrides"):
            self.query_one(f"#{field}", Input).set_class(field in self.errors, "-invalid")
        text = "\n".join(self.errors[f] for f in (*NUMBER_FIELDS, "until", "overrides")
                         if f in self.errors)
        message = self.query_one("#launch-error", Static)
        message.update(Text.assemble((text, "bold red")))
        if text:  # on a short terminal the dialog scrolls: bring the message into view
            message.scroll_visible(animate=False)

    def action_launch(self) -> None:
        numbers = {field: self._number(field) for field in NUMBER_FIELDS}
        chosen = list(self.query_one("#treatments", SelectionList).selected)
        overrides = {}
        self.errors.pop("overrides", None)
        try:
            for token in self.query_one("#overrides", Input).value.split():
                key, value = parse_assignment(token)
                overrides[key] = value
            if overrides:
                conditions = ["baseline", *chosen]
                apply_overrides(self.experiment.resolve_configs(conditions), overrides)
        except Exception as exc:  # a typo in a key: say which, keep the dialog open
            self.errors["overrides"] = str(exc)
        # Stop when decided: the replicates field is then the cap (max_replicates).
        until = self.query_one("#until", Input).value.strip() or None
        correction = str(self.query_one("#correction", Select).value)
        stop: dict[str, Any] = {}
        if until is not None:
            try:
                parse_stop(until, numbers["replicates"], correction)
                stop = {"until": until, "max_replicates": numbers["replicates"],
                        "correction": correction}
            except ConfigError as exc:
                self.errors["until"] = str(exc)
        elif correction != DEFAULT_CORRECTION:
            self.errors["until"] = (f"correction {correction}: it decides a stop rule's rows; "
                                    "fill 'stop when' (decided, or width=0.02)")
        # The backend is a choice only when changed: workers alone keep the experiment's
        # pool, or make one (processes) from a serial default.
        backend = self.query_one("#backend", Select).value
        changed = backend != self.experiment.execution["backend"]
        if changed and backend == "serial" and (numbers["workers"] or 1) > 1:
            self.errors["workers"] = ("workers: serial runs one replicate at a time; set 1, "
                                      "or pick another backend in 'runs on'")
        self._show_errors()
        if self.errors:
            return
        self.dismiss({"replicates": numbers["replicates"], "seed": numbers["seed"],
                      "workers": numbers["workers"], "treatments": chosen,
                      "overrides": overrides, **({"backend": backend} if changed else {}), **stop})


NUMBER_FIELDS = {"replicates": 1, "seed": 0, "workers": 1}  # field id -> smallest value
# The choices of stats/family.py (CORRECTIONS, default first), named here rather than
# imported: importing the stats package loads scipy, which the UI does in the background
# (a dialog module imported at start-up must not wait for it; tests/test_tui_quit.py).
DEFAULT_CORRECTION = "holm"
CORRECTION_NAMES = {"holm": "Holm (family-wise)", "bonferroni": "Bonferroni (family-wise)",
                    "e-bh": "e-BH (false discovery rate)"}
