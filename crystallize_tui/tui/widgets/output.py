"""The live output panel: print/log lines and ctx.emit events, tagged, filterable, bounded."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from textual.widgets import Log

from ...watch.format import earlier_lines_note, stored_lines

MAX_LINES = 5_000


class OutputLog(Log):
    """A ``Log`` (fast: plain text lines) that remembers each line's condition so the
    view can be filtered after the fact. Follows the tail unless scrolled up. While nothing
    is shown it says so, rather than staying blank."""

    def __init__(self, max_lines: int = MAX_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, **kwargs)  # type: ignore[arg-type]
        self._kept: deque[tuple[str, str]] = deque(maxlen=max_lines)
        self.filter: str | None = None  # None: every condition
        self.total = 0
        self.ended = False  # the run is over: nothing shown means it printed nothing
        self.placeholder: str | None = None  # the line shown while there is no output

    def on_mount(self) -> None:
        self._show_placeholder()

    def add(self, lines: list[tuple[str, str]]) -> None:
        if not lines:
            return
        self._kept.extend(lines)
        self.total += len(lines)
        wanted = self.filter
        shown = [text for condition, text in lines if wanted is None or condition == wanted]
        if shown:
            if self.placeholder is not None:
                self.clear()
                self.placeholder = None
            self.write_lines(shown)

    def add_stored(self, rows: Iterable[Mapping[str, Any]],
                   failures: Iterable[tuple[str, int, str]] = ()) -> None:
        """A stored run's output, written as the live run wrote it. ``rows`` are the run's
        last logged events (one more than fit tells that earlier ones were left out)."""
        rows = list(rows)
        cut = len(rows) > self.max_lines  # asked for max_lines + 1: the run logged more
        lines = stored_lines(rows[-(self.max_lines - 1):] if cut else rows, failures)
        if cut:
            lines.insert(0, earlier_lines_note(self.max_lines - 1))
        self.add([(line.condition, line.text) for line in lines])
        self.mark_ended()

    def mark_ended(self) -> None:
        """The run is over: an empty panel now reads "(no output)"."""
        self.ended = True
        if self.placeholder is not None:
            self._show_placeholder()

    def set_filter(self, condition: str | None) -> None:
        self.filter = condition
        self.clear()
        self.placeholder = None
        self.write_lines([t for c, t in self._kept if condition is None or c == condition])
        self._show_placeholder()
        self.border_title = f"output · {condition or 'all conditions'}"

    def _show_placeholder(self) -> None:
        if self.line_count and self.placeholder is None:
            return
        where = f" from {self.filter}" if self.filter is not None else ""
        text = f"(no output{where})" if self.ended else f"(no output{where} yet)"
        self.clear()
        self.write_line(text)
        self.placeholder = text
