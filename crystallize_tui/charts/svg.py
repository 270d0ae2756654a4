"""A Chart as a standalone SVG file for a paper: axes with ticks, axis labels, a legend, bands
as polygons. Plain XML text, no plotting library; colours are given by the caller (index -> #rrggbb)."""

from __future__ import annotations

import math
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from ..render.palette import condition_colour  # plain module: colours as #rrggbb text
from .canvas import data_range, nice_ticks, tick_label
from .model import Chart, Line

FONT = 12
LEFT, RIGHT, TOP = 72, 24, 36


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


class _Frame:
    """Data -> SVG coordinates inside the plot rectangle; infinities go to its edges."""

    def __init__(self, chart: Chart, x0: float, y0: float, x1: float, y1: float) -> None:
        self.xmin, self.xmax, self.ymin, self.ymax = data_range(chart)
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1

    def x(self, v: float) -> float:
        return self.x0 + (v - self.xmin) / (self.xmax - self.xmin) * (self.x1 - self.x0)

    def y(self, v: float) -> float:
        if v == math.inf:
            return self.y0
        if v == -math.inf:
            return self.y1
        y = self.y1 - (v - self.ymin) / (self.ymax - self.ymin) * (self.y1 - self.y0)
        return min(max(y, self.y0), self.y1)


def _path(frame: _Frame, xs: tuple[float, ...], ys: tuple[float, ...]) -> str:
    """An SVG path through the finite points; a NaN starts a new piece."""
    parts, pen = [], "M"
    for x, y in zip(xs, ys, strict=False):
        if not math.isfinite(x) or math.isnan(y):
            pen = "M"
            continue
        parts.append(f"{pen}{_f(frame.x(x))},{_f(frame.y(y))}")
        pen = "L"
    return " ".join(parts)


def _band(frame: _Frame, line: Line) -> str:
    """The band as one polygon: along the upper edge, back along the lower."""
    assert line.low is not None and line.high is not None
    keep = [(x, lo, hi) for x, lo, hi in zip(line.xs, line.low, line.high, strict=False)
            if math.isfinite(x) and not (math.isnan(lo) or math.isnan(hi))]
    upper = [f"{_f(frame.x(x))},{_f(frame.y(hi))}" for x, _, hi in keep]
    lower = [f"{_f(frame.x(x))},{_f(frame.y(lo))}" for x, lo, _ in reversed(keep)]
    return " ".join(upper + lower)


def to_svg(chart: Chart, width: int = 720, height: int = 440,
           colour: Callable[[int], str] = condition_colour) -> str:
    """The chart as SVG text (``width`` x ``height`` px): title, axes, ticks, labels, bands,
    curves, points, intervals, reference lines, legend and notes under the plot."""
    legend = chart.legend()
    per_row = max(1, (width - LEFT) // 150)
    legend_rows = math.ceil(len(legend) / per_row)
    bottom = 52 + 18 * legend_rows + 16 * len(chart.notes)
    total_h = height + 16 * len(chart.notes)
    frame = _Frame(chart, LEFT, TOP, width - RIGHT, total_h - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
           f'viewBox="0 0 {width} {total_h}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="{FONT}">',
           f"<title>{escape(chart.title)}</title>",
           f'<rect width="{width}" height="{total_h}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="{TOP - 14}" font-size="{FONT + 2}" font-weight="bold">'
           f"{escape(chart.title)}</text>",
           '<defs><clipPath id="plot"><rect '
           f'x="{frame.x0}" y="{_f(frame.y0)}" width="{_f(frame.x1 - frame.x0)}" '
           f'height="{_f(frame.y1 - frame.y0)}"/></clipPath></defs>']
    out += _axes(chart, frame)
    out.append('<g clip-path="url(#plot)">')
    out += _marks(chart, frame, colour)
    out.append("</g>")
    out += _legend(legend, frame, colour, per_row, width)
    y = frame.y1 + 52 + 18 * legend_rows
    for note in chart.notes:
        out.append(f'<text x="{LEFT}" y="{_f(y)}" fill="#444444">{escape(note)}</text>')
        y += 16
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _axes(chart: Chart, frame: _Frame) -> list[str]:
    out = ['<g class="axes" stroke="#222222" stroke-width="1">',
           f'<line x1="{frame.x0}" y1="{_f(frame.y1)}" x2="{frame.x1}" y2="{_f(frame.y1)}"/>',
           f'<line x1="{frame.x0}" y1="{_f(frame.y0)}" x2="{frame.x0}" y2="{_f(frame.y1)}"/>',
           "</g>", '<g class="ticks" fill="#222222">']
    for v in nice_ticks(frame.ymin, frame.ymax, 6):
        y = _f(frame.y(v))
        out.append(f'<line x1="{frame.x0 - 4}" y1="{y}" x2="{frame.x0}" y2="{y}" stroke="#222222"/>')
        out.append(f'<text x="{frame.x0 - 7}" y="{y}" text-anchor="end" '
                   f'dominant-baseline="middle">{escape(tick_label(v))}</text>')
    xticks = list(chart.x_ticks) or [(v, tick_label(v)) for v in
                                     nice_ticks(frame.xmin, frame.xmax, 8)]
    for v, label in xticks:
        x = _f(frame.x(v))
        out.append(f'<line x1="{x}" y1="{_f(frame.y1)}" x2="{x}" y2="{_f(frame.y1 + 4)}" '
                   'stroke="#222222"/>')
        out.append(f'<text x="{x}" y="{_f(frame.y1 + 18)}" text-anchor="middle">'
                   f"{escape(label)}</text>")
    mid_x, mid_y = (frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2
    out.append(f'<text class="x-label" x="{_f(mid_x)}" y="{_f(frame.y1 + 36)}" '
               f'text-anchor="middle">{escape(chart.x_label)}</text>')
    out.append(f'<text class="y-label" x="16" y="{_f(mid_y)}" text-anchor="middle" '
               f'transform="rotate(-90 16 {_f(mid_y)})">{escape(chart.y_label)}</text>')
    out.append("</g>")
    return out


def _marks(chart: Chart, frame: _Frame, colour: Callable[[int], str]) -> list[str]:
    out = []
    for line in chart.lines:
        if line.low is not None and line.high is not None:
            out.append(f'<polygon class="band" data-condition={quoteattr(line.label)} '
                       f'points="{_band(frame, line)}" fill="{colour(line.condition)}" '
                       'fill-opacity="0.18" stroke="none"/>')
    for h in chart.hlines:
        y = _f(frame.y(h.y))
        out.append(f'<line class="reference" x1="{frame.x0}" y1="{y}" x2="{frame.x1}" y2="{y}" '
                   'stroke="#555555" stroke-dasharray="5 4"/>')
    for line in sorted(chart.lines, key=lambda item: not item.faint):
        kind = "replicate" if line.faint else "series"
        width, opacity = ("0.8", "0.35") if line.faint else ("2", "1")
        out.append(f'<path class="{kind}" data-condition={quoteattr(line.label)} '
                   f'd="{_path(frame, line.xs, line.ys)}" fill="none" '
                   f'stroke="{colour(line.condition)}" stroke-width="{width}" '
                   f'stroke-opacity="{opacity}"/>')
    for pts in chart.points:
        c = colour(pts.condition)
        out.append(f'<g class="points" data-condition={quoteattr(pts.label)} fill="{c}" '
                   'fill-opacity="0.7">')
        out += [f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5"/>'
                for x, y in _stacked(frame, pts.xs, pts.ys)]
        out.append("</g>")
    for iv in chart.intervals:
        x = frame.x(iv.x)
        c = colour(iv.condition)
        parts = []
        if math.isfinite(iv.low) and math.isfinite(iv.high):
            lo, hi = frame.y(iv.low), frame.y(iv.high)
            parts.append(f"M{_f(x)},{_f(hi)} L{_f(x)},{_f(lo)} M{_f(x - 4)},{_f(hi)} "
                         f"L{_f(x + 4)},{_f(hi)} M{_f(x - 4)},{_f(lo)} L{_f(x + 4)},{_f(lo)}")
        if math.isfinite(iv.centre):
            y = frame.y(iv.centre)
            parts.append(f"M{_f(x - 7)},{_f(y)} L{_f(x + 7)},{_f(y)}")
        out.append(f'<path class="interval" data-condition={quoteattr(iv.label)} '
                   f'd="{" ".join(parts)}" stroke="{c}" stroke-width="2" fill="none"/>')
    return out


def _stacked(frame: _Frame, xs: tuple[float, ...], ys: tuple[float, ...]
             ) -> list[tuple[float, float]]:
    """Points at (nearly) the same place set side by side, alternating sides, 5 px apart,
    or closer when a row would leave its slot (0.3 of a category's width either side)."""
    rows: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for x, y in zip(xs, ys, strict=False):
        if math.isfinite(x) and math.isfinite(y):
            px, py = frame.x(x), frame.y(y)
            rows.setdefault((round(px), round(py / 5)), []).append((px, py))
    half = 0.3 * (frame.x1 - frame.x0) / max(frame.xmax - frame.xmin, 1.0)
    out = []
    for row in rows.values():
        step = min(5.0, 2 * half / max(len(row), 1))
        for k, (px, py) in enumerate(row):
            out.append((px + (k + 1) // 2 * (step if k % 2 else -step), py))
    return out


def _legend(legend: list[tuple[int, str]], frame: _Frame, colour: Callable[[int], str],
            per_row: int, width: int) -> list[str]:
    out = ['<g class="legend">']
    for i, (index, name) in enumerate(legend):
        x = LEFT + (i % per_row) * 150
        y = frame.y1 + 50 + 18 * (i // per_row)
        out.append(f'<rect x="{x}" y="{_f(y - 9)}" width="12" height="12" '
                   f'fill="{colour(index)}"/>')
        out.append(f'<text x="{x + 17}" y="{_f(y + 1)}">{escape(name)}</text>')
    out.append("</g>")
    return out
