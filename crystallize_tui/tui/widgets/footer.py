"""The footer of every screen: the keys that fit its width, always the ones to leave and find help."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# What a user at any width needs: the way back (escape), help (?) and quit. ctrl+p, the
# palette, is docked on the right by the footer itself. The help screen and the palette list
# every key, so one left out of a narrow footer is still found.
ALWAYS = ("help", "quit")


def always_shown(binding: Binding) -> bool:
    """Whether ``binding`` stays in the footer however narrow the terminal."""
    return "escape" in binding.key.split(",") or binding.action in ALWAYS


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
        if not self.size.width or any(not isinstance(w, FooterKey) for w in widgets):
            # Not laid out yet (a resize follows), or key groups (none in this app).
            yield from widgets
            return
        palette = [w for w in widgets if w.has_class("-command-palette")]
        keys = [w for w in widgets if w not in palette]
        # The palette key: its own width, its border and padding.
        room = self.size.width - sum(key_width(w.key_display, w.description) + 2 for w in palette)
        bindings = self._bindings_by_action()
        shown = fitting([(w, key_width(w.key_display, w.description),
                          always_shown(bindings.get(w.action, Binding(w.key, w.action))))
                         for w in keys], room)
        yield from shown
        yield from palette

    def _bindings_by_action(self) -> dict[str, Binding]:
        found: Iterable[Any] = self.screen.active_bindings.values()
        return {binding.action: binding for _, binding, _, _ in found}

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_at and self._bindings_ready:
            self.call_after_refresh(self.recompose)
