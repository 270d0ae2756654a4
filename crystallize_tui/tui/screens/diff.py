"""The config differences between two conditions, as in ``crystallize diff``."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Select, Static

from ...commands.browsing import config_diff
from ..widgets.footer import KeyFooter


def diff_text(experiment: Any, a: str, b: str) -> Text:
    configs = experiment.resolve_configs([a, b]) if a != b else experiment.resolve_configs([a])
    lines = config_diff(a, configs[a], b, configs[b])
    text = Text()
    if len(lines) == 2:
        return Text(f"{a} and {b} have identical configs", style="dim")
    for line in lines:
        style = "bold" if line.startswith(("---", "+++")) else (
            "red" if line.startswith("-") else "green")
        text.append(line + "\n", style=style)
    return text


class DiffScreen(Screen):
    """Pick two conditions; see only the keys whose values differ."""

    BINDINGS = [Binding("escape", "back", "Back"), Binding("s", "swap", "Swap sides")]

    def __init__(self, experiment: Any) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        conditions = self.experiment.conditions
        other = conditions[1] if len(conditions) > 1 else conditions[0]
        yield Header()
        with Vertical():
            with Horizontal(id="diff-pickers"):
                yield Select([(c, c) for c in conditions], value=conditions[0], allow_blank=False,
                             id="side-a")
                yield Select([(c, c) for c in conditions], value=other, allow_blank=False,
                             id="side-b")
            with VerticalScroll(classes="pane", id="diff-pane"):
                yield Static(id="diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = f"diff {self.experiment.name}"
        self.query_one("#diff-pane").border_title = "resolved configs: only what differs"
        self._refresh()

    @on(Select.Changed)
    def _changed(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        a = str(self.query_one("#side-a", Select).value)
        b = str(self.query_one("#side-b", Select).value)
        try:
            self.query_one("#diff", Static).update(diff_text(self.experiment, a, b))
        except Exception as exc:  # a datasource that fails to resolve
            self.query_one("#diff", Static).update(Text(f"cannot resolve configs: {exc}",
                                                        style="bold red"))

    def action_swap(self) -> None:
        a, b = self.query_one("#side-a", Select), self.query_one("#side-b", Select)
        a.value, b.value = b.value, a.value

    def action_back(self) -> None:
        self.app.pop_screen()
