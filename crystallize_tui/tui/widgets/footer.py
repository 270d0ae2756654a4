"""The footer of every screen: the keys that fit its width, always the ones to leave and find help."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

# What a user at any width needs: the way back (escape), help (?) and quit. ctrl+p, the
# palette, is docked on the right by the footer itself. The help screen and the palette list
# every key, so one left out of a narrow footer is still found.
ALWAYS = ("help", "quit")


def always_shown(action: str, bindings: Iterable[Binding]) -> bool:
    """Whether the key of ``action`` stays in the footer however narrow the terminal: help,
    quit, or an action escape does (back, cancel), whichever key the footer shows for it."""
    return action in ALWAYS or any(b.action == action and b.key == "escape" for b in bindings)


def key_width(key_display: str, description: str) -> int:
    """Columns a footer key takes: " key " then "description " (Textual's FooterKey)."""
    return cell_len(key_display) + cell_len(description) + 3


def fitting(keys: list[tuple[Any, int, bool]], room: int) -> list[Any]:
    """Of ``keys`` (item, width, always shown), the ones shown in ``room`` columns: those
    always shown, then the others in their order while they fit; in their order."""
    used = sum(width for _, width, always in keys if always)
    chosen = {id(item) for item, _, always in keys if always}
    for item, width, always in keys:
        if not always and used + width <= room:
            chosen.add(id(item))
            used += width
    return [item for item, _, _ in keys if id(item) in chosen]


class KeyFooter(Footer):
    """Textual's footer, keeping to one line without cutting: when the keys do not all fit,
    the secondary ones (later in a screen's BINDINGS) leave first, and never esc, ? and q."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._laid_out_at = -1  # the width the keys were chosen for

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._laid_out_at = self.size.width
        # Textual's FooterKey (not exported): a key widget has a key_display and an action.
        if not self.size.width or any(not hasattr(w, "key_display") for w in widgets):
            # Not laid out yet (a resize follows), or key groups (none in this app).
            yield from widgets
            return
        palette = [w for w in widgets if w.has_class("-command-palette")]
        keys = [w for w in widgets if w not in palette]
        # The palette key: its own width, its border and padding.
        room = self.size.width - sum(key_width(w.key_display, w.description) + 2 for w in palette)
        bindings = [binding for _, binding, _, _ in self.screen.active_bindings.values()]
        shown = fitting([(w, key_width(w.key_display, w.description), always_shown(w.action, bindings))
                         for w in keys], room)
        yield from shown
        yield from palette

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_at and self._bindings_ready:
            self.call_after_refresh(self.recompose)
