"""What a chart holds, independent of how it is drawn: curves, points, intervals, reference lines."""

from __future__ import annotations

from dataclasses import dataclass, field

# The kinds of chart the builders in data.py make; a view may pick its layout by them.
KINDS = ("series", "distribution", "anytime", "history")


@dataclass(frozen=True)
class Line:
    """A curve through (xs, ys), with an optional band from ``low`` to ``high`` at each x.

    ``condition`` is the condition's index (baseline 0, then treatments in declaration
    order): the colour. NaN in ys breaks the curve; an infinite band edge means unbounded."""

    label: str
    condition: int
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    low: tuple[float, ...] | None = None
    high: tuple[float, ...] | None = None
    faint: bool = False  # one replicate's curve among many, drawn under the mean


@dataclass(frozen=True)
class Points:
    """One glyph per value (a replicate) at (x, y); points at the same place are stacked
    side by side by the canvas, never jittered at random."""

    label: str
    condition: int
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True)
class Interval:
    """A centre (mean, estimate) and its interval, drawn as a vertical bar at x."""

    label: str
    condition: int
    x: float
    centre: float
    low: float
    high: float


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (zero difference), labelled at its right end."""

    y: float
    label: str = ""


@dataclass(frozen=True)
class Chart:
    """One chart: axes labels, what is drawn on them, notes under the legend.

    ``conditions`` names the condition of each index (for the legend and colours);
    ``x_ticks`` gives categorical tick labels (distribution, history) instead of numbers."""

    title: str
    x_label: str
    y_label: str
    lines: tuple[Line, ...] = ()
    points: tuple[Points, ...] = ()
    intervals: tuple[Interval, ...] = ()
    hlines: tuple[HLine, ...] = ()
    notes: tuple[str, ...] = ()
    kind: str = "series"
    conditions: tuple[str, ...] = ()
    x_ticks: tuple[tuple[float, str], ...] = field(default=())

    def legend(self) -> list[tuple[int, str]]:
        """(condition index, name) of each condition drawn, in index order."""
        used = {item.condition for group in (self.lines, self.points, self.intervals)
                for item in group}
        names = dict(enumerate(self.conditions))
        for group in (self.lines, self.points, self.intervals):
            for item in group:
                names.setdefault(item.condition, item.label)
        return [(i, names[i]) for i in sorted(used)]
