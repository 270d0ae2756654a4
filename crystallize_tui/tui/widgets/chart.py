"""A chart drawn into a widget: the braille canvas (charts/canvas.py) coloured as every table is."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widget import Widget

from ...charts.canvas import Drawing, draw
from ...charts.model import Chart
from ...render.charts import drawing_text


def drawn(chart: Chart, width: int, height: int, dark: bool) -> tuple[Drawing, Text]:
    """``chart`` drawn at ``width`` x ``height`` and as Text: plain work a thread may do."""
    drawing = draw(chart, width, height)
    return drawing, drawing_text(drawing, dark=dark)


class ChartView(Widget):
    """Shows one Chart. What it drew is kept (``chart``, ``drawing``) so tests and the
    screenshot export read the picture, not pixels. A drawing made elsewhere at this
    widget's size is taken as it is; at another size (a resize) it is drawn again here."""

    DEFAULT_CSS = """
    ChartView {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, placeholder: str = "", redraw_on_resize: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # False when the owner redraws it in a thread at the new size (the run's charts).
        self.redraw_on_resize = redraw_on_resize
        self.chart: Chart | None = None
        self.drawing: Drawing | None = None
        self.placeholder = placeholder
        self._text = Text(placeholder, style="dim")
        self._drawn_at: tuple[int, int, bool] | None = None
        self.draw_cost = 0.0  # seconds the last drawing on the UI thread took (bench/)

    @property
    def dark(self) -> bool:
        try:
            return bool(self.app.current_theme.dark)
        except Exception:  # noqa: BLE001 - not mounted yet: the default theme is dark
            return True

    def show(self, chart: Chart | None, drawing: Drawing | None = None, text: Text | None = None,
             size: tuple[int, int] | None = None, placeholder: str | None = None) -> None:
        """Show ``chart`` (None: the placeholder). ``drawing``/``text`` made at ``size``
        are used when that is still this widget's size."""
        if placeholder is not None:
            self.placeholder = placeholder
        self.chart = chart
        if chart is None:
            self.drawing, self._drawn_at = None, None
            self._text = Text(self.placeholder, style="dim")
        elif drawing is not None and text is not None and size == self._cells():
            self.drawing, self._text = drawing, text
            self._drawn_at = (*size, self.dark)
        else:
            self._redraw()
        self.refresh()

    def stale(self) -> bool:
        """Shown, drawn, and laid out at another size since (its drawing no longer fits)."""
        return (self.chart is not None and self.display and self._drawn_at is not None
                and self._drawn_at[:2] != self._cells())

    def _cells(self) -> tuple[int, int]:
        return self.content_size.width, self.content_size.height

    def _redraw(self) -> None:
        if self.chart is None:
            return
        width, height = self._cells()
        if width <= 0 or height <= 0:
            self._drawn_at = None  # not laid out yet: drawn at the first resize
            return
        began = time.perf_counter()
        self.drawing, self._text = drawn(self.chart, width, height, self.dark)
        self._drawn_at = (width, height, self.dark)
        self.draw_cost = time.perf_counter() - began

    def on_resize(self) -> None:
        if self.redraw_on_resize and self.chart is not None and self._drawn_at != (*self._cells(), self.dark):
            self._redraw()

    def render(self) -> Text:
        # Shown before it was laid out (no size then), or the theme changed (band fills too).
        if self.chart is not None and (self._drawn_at is None or self._drawn_at[2] != self.dark):
            self._redraw()
        return self._text
