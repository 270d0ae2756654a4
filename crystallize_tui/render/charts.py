"""Charts as rich Text: the braille canvas (charts/canvas.py) coloured by render/palette.py."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..charts.canvas import AXIS, NONE, REFERENCE, Drawing, draw
from ..charts.model import Chart
from .palette import band_colour, condition_colour


def drawing_text(drawing: Drawing, dark: bool = True, bands: bool = True) -> Text:
    """The drawing as one Text: dots in their condition's colour, axes and text in the
    terminal's foreground, band cells on a faint fill of their condition's colour."""
    out = Text(no_wrap=True, overflow="crop")
    styles: dict[tuple[int, int], Style] = {}
    for r, line in enumerate(drawing.lines):
        if r:
            out.append("\n")
        colours = drawing.colours[r]
        fills = drawing.bands[r] if bands else [NONE] * len(line)
        # Runs of equal (colour, fill) keys become one span: comparing ints, not Styles.
        start, key = 0, None
        for c in range(len(line) + 1):
            here = (colours[c], fills[c]) if c < len(line) else None
            if here != key:
                if key is not None:
                    style = styles.get(key)
                    if style is None:
                        style = styles[key] = _style(*key, dark=dark)
                    out.append(line[start:c], style)
                start, key = c, here
    return out


def _style(colour: int, fill: int, dark: bool) -> Style:
    fg = None if colour in (AXIS, NONE) else condition_colour(-1 if colour == REFERENCE else colour)
    bg = band_colour(fill, dark) if fill >= 0 else None
    return Style(color=fg, bgcolor=bg)


def chart_text(chart: Chart, width: int, height: int, dark: bool = True) -> Text:
    """``chart`` drawn into ``width`` x ``height`` cells as rich Text."""
    return drawing_text(draw(chart, width, height), dark=dark)
