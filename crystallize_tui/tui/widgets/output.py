"""The live output panel: print/log lines and ctx.emit events, tagged, filterable, bounded."""

from __future__ import annotations

from collections import deque

from textual.widgets import Log

MAX_LINES = 5_000


class OutputLog(Log):
    """A ``Log`` (fast: plain text lines) that remembers each line's condition so the
    view can be filtered after the fact. Follows the tail unless scrolled up."""

    def __init__(self, max_lines: int = MAX_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, **kwargs)  # type: ignore[arg-type]
        self._kept: deque[tuple[str, str]] = deque(maxlen=max_lines)
        self.filter: str | None = None  # None: every condition
        self.total = 0

    def add(self, lines: list[tuple[str, str]]) -> None:
        if not lines:
            return
        self._kept.extend(lines)
        self.total += len(lines)
        wanted = self.filter
        shown = [text for condition, text in lines if wanted is None or condition == wanted]
        if shown:
            self.write_lines(shown)

    def set_filter(self, condition: str | None) -> None:
        self.filter = condition
        self.clear()
        self.write_lines([t for c, t in self._kept if condition is None or c == condition])
        self.border_title = f"output · {condition or 'all conditions'}"
