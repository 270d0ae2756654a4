"""A dialog with every figure of one table row (a comparison, or a replicate), label by value."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class FiguresScreen(ModalScreen[None]):
    """Every figure of a row that the table had no room for, one per line."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    #figures-dialog { width: 90; max-width: 100%; }
    """

    def __init__(self, title: str, figures: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = title
        self.figures = list(figures)

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in self.figures:
            grid.add_row(label, value)
        with Vertical(classes="dialog", id="figures-dialog"):
            yield Label(Text(self.heading, style="bold"), classes="dialog-head")
            with VerticalScroll(classes="dialog-body"):  # scrolls; the heading and Close stay
                yield Static(grid, id="figures")
            yield Button("Close", id="close", classes="dialog-close")

    def text(self) -> str:
        """The figures as plain lines (what the dialog shows)."""
        return "\n".join(f"{label}: {value}" for label, value in self.figures)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()
