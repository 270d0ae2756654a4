"""Any two conditions of a finished run: the picker, and the run screen's A-vs-B statistics panel."""

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
from textual.widgets import Button, Label, Select, Static

# The correction families of result.compare (core/compare.py), as the picker words them.
FAMILY_CHOICES = [("across treatments", "metric"), ("across every metric", "table")]
PAIR_ACTIONS = ("compare_pair", "vs_baseline")
BASELINE_TITLE = "treatment vs baseline"  # the statistics pane's title by default


def default_pair(conditions: list[str]) -> tuple[str, str]:
    """Two treatments when there are (the comparison the baseline view lacks), else the
    baseline and its treatment."""
    if len(conditions) > 2:
        return conditions[1], conditions[2]
    return conditions[0], conditions[1]


class PairPickerScreen(ModalScreen[tuple[str, str, str] | None]):
    """Choose conditions A and B (B − A is shown) and the correction's family."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("ctrl+r", "pick", "Compare")]

    def __init__(self, conditions: list[str], pair: tuple[str, str] | None = None,
                 family: str = "metric") -> None:
        super().__init__()
        self.conditions = list(conditions)
        self.pair = pair or default_pair(self.conditions)
        self.family = family

    def compose(self) -> ComposeResult:
        options = [(c, c) for c in self.conditions]
        with Vertical(classes="dialog launch", id="pair-dialog"):
            yield Label(Text("Compare two conditions (B − A, paired by replicate)", style="bold"))
            with Horizontal(classes="field"):
                yield Label("A (reference)")
                yield Select(options, id="pair-a", value=self.pair[0], allow_blank=False)
            with Horizontal(classes="field"):
                yield Label("B")
                yield Select(options, id="pair-b", value=self.pair[1], allow_blank=False)
            with Horizontal(classes="field"):
                yield Label("correct p-values")  # holm, as result.compare
                yield Select(FAMILY_CHOICES, id="pair-family", value=self.family,
                             allow_blank=False)
            yield Static(id="pair-error")
            with Horizontal(classes="buttons"):
                yield Button("Compare (ctrl+r)", id="pair-go", variant="success")
                yield Button("Cancel (esc)", id="pair-cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "pair-go":
            self.action_pick()
        else:
            self.dismiss(None)

    def action_pick(self) -> None:
        a = str(self.query_one("#pair-a", Select).value)
        b = str(self.query_one("#pair-b", Select).value)
        if a == b:
            self.query_one("#pair-error", Static).update(
                Text(f"A and B are both {a}: pick two different conditions", style="bold red"))
            return
        self.dismiss((a, b, str(self.query_one("#pair-family", Select).value)))


@dataclass
class PairCompared(Message):
    """``result.compare(a, b, family=...)`` computed (or the error that stopped it)."""

    table: Any
    pair: tuple[str, str]
    family: str
    error: str = ""


class PairView:
    """The run screen's part (a mixin of RunScreen): p picks two conditions and the
    statistics pane shows B − A; b returns to each treatment vs the baseline."""

    pair_shown: tuple[str, str, str] | None = None  # (a, b, family) while the pane shows a pair

    def pair_action_allowed(self, action: str) -> bool:
        screen: Any = self
        if action == "vs_baseline":
            return self.pair_shown is not None
        result = screen.result
        return not screen.running and result is not None and len(result.conditions) > 1

    def action_compare_pair(self) -> None:
        screen: Any = self
        if not self.pair_action_allowed("compare_pair"):
            screen.app.notify("two conditions compare once the run has ended", timeout=3)
            return
        shown = self.pair_shown

        def picked(choice: tuple[str, str, str] | None) -> None:
            if choice is not None:
                self.compare_pair(screen.result, *choice)

        screen.app.push_screen(PairPickerScreen(list(screen.result.conditions),
                                                shown[:2] if shown else None,
                                                shown[2] if shown else "metric"), picked)

    @work(thread=True, exclusive=True, group="pair", exit_on_error=False)
    def compare_pair(self, result: Any, a: str, b: str, family: str) -> None:
        """scipy off the UI thread; the same result.compare the CLI's show --compare uses."""
        try:
            table = result.compare(a, b, family=family)
        except Exception as exc:  # noqa: BLE001 - a metric that cannot be compared: say so
            self.post_message(PairCompared(None, (a, b), family,  # type: ignore[attr-defined]
                                           f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(PairCompared(table, (a, b), family))  # type: ignore[attr-defined]

    def on_pair_compared(self, message: PairCompared) -> None:
        screen: Any = self
        if message.error:
            screen.app.notify(message.error, title="cannot compare", severity="error", timeout=8)
            return
        table = message.table
        a, b = message.pair
        self.pair_shown = (a, b, message.family)
        screen.query_one("#stats").show(table)
        # The pane's title says which pair and which correction (the table's own title,
        # without the experiment's name).
        screen.query_one("#stats-pane").border_title = table.title.partition(": ")[2] or table.title
        lines = [f"{b} vs {a}: differences are {b} − {a} · b: back to treatment vs baseline",
                 *table.footnotes(compact=True)]
        screen.query_one("#verdicts", Static).update(Text("\n".join(lines)))
        screen.refresh_bindings()

    def action_vs_baseline(self) -> None:
        screen: Any = self
        if self.pair_shown is None:
            return
        self.pair_shown = None
        screen.query_one("#stats-pane").border_title = BASELINE_TITLE
        screen._show_final(screen.result)
        show = getattr(screen, "show_confirmation", None)
        if show is not None:
            show()
        screen.refresh_bindings()
