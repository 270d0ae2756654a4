"""A braille canvas (2 x 4 dots per cell) drawing a Chart into plain lines plus a colour per cell.

``draw(chart, width, height)`` returns a ``Drawing``: ``lines`` (exactly ``height`` strings of
``width`` characters at most), ``colours`` (per cell: the condition index whose dots are there,
``AXIS`` for axes and text, ``REFERENCE`` for reference lines) and ``bands`` (per cell: the
condition whose band covers it, or ``NONE``), so the rich renderer, the SVG-free tests and the
TUI all read the same picture. Below ``MIN_WIDTH x MIN_HEIGHT`` it is one line saying so."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .model import Chart, Line

AXIS, REFERENCE, NONE = -1, -2, -3
MIN_WIDTH, MIN_HEIGHT = 24, 8
BRAILLE = 0x2800
# Dot bit of (column, row) within a cell: braille numbers dots down the left column first.
_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
LEGEND_MARK = "■"
LIMIT = 1e306


@dataclass(frozen=True)
class Drawing:
    """A drawn chart: text lines, colour per cell, band colour per cell."""

    lines: list[str]
    colours: list[list[int]]
    bands: list[list[int]]
    too_small: bool = False
    hidden_points: int = 0  # points with no room left in their strip's row (said in a note)

    def text(self) -> str:
        return "\n".join(self.lines)


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About ``count`` round values (1, 2, 2.5, 5 x 10^k steps) within [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or count < 1:
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    if not (math.isfinite(raw) and raw > 0):  # a span too small for a float step
        return [lo]
    mag = 10 ** math.floor(math.log10(raw))
    step = next((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), 10 * mag)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + step * 1e-9 and len(out) < 50:
        out.append(0.0 if abs(v) < step * 1e-9 else v)
        v = first + len(out) * step
    if len(out) < 2 and count < 8:  # a round step wider than asked left one tick: finer
        return nice_ticks(lo, hi, count + 1)
    return out


def tick_label(v: float) -> str:
    text = f"{v:.4g}"
    return text.replace("e+0", "e").replace("e-0", "e-")


def _extent(values: object) -> list[float]:
    """The smallest and largest finite number among ``values`` (none: an empty list)."""
    arr = np.asarray(values, dtype=float) if len(values) else np.empty(0)  # type: ignore[arg-type]
    arr = arr[np.isfinite(arr)]
    return [float(arr.min()), float(arr.max())] if arr.size else []


def data_range(chart: Chart) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) over every finite value drawn, padded a little in y."""
    xs: list[float] = []
    ys: list[float] = []
    for line in chart.lines:
        xs += _extent(line.xs)
        ys += _extent(line.ys) + _extent(line.low or ()) + _extent(line.high or ())
    for pts in chart.points:
        xs += _extent(pts.xs)
        ys += _extent(pts.ys)
    for iv in chart.intervals:
        xs += _extent([iv.x])
        ys += _extent([iv.centre, iv.low, iv.high])
    ys += [h.y for h in chart.hlines if math.isfinite(h.y)]
    xs += [x for x, _ in chart.x_ticks]
    if not xs:
        xs = [0.0, 1.0]
    if not ys:
        ys = [0.0, 1.0]
    # Within +-LIMIT the span stays a finite float; values beyond are clipped to the edges.
    xmin, xmax = max(min(xs), -LIMIT), min(max(xs), LIMIT)
    ymin, ymax = max(min(ys), -LIMIT), min(max(ys), LIMIT)
    if chart.x_ticks:  # categories: half a slot of room either side
        xmin, xmax = xmin - 0.5, xmax + 0.5
    if _flat(xmin, xmax):
        xmin, xmax = xmin - 0.5, xmax + 0.5
    if _flat(ymin, ymax):
        pad = abs(ymin) * 0.1 if abs(ymin) > 1e-290 else 1.0
        return xmin, xmax, ymin - pad, ymax + pad
    pad = (ymax - ymin) * 0.05
    return xmin, xmax, ymin - pad, ymax + pad


def _flat(lo: float, hi: float) -> bool:
    """A span too narrow to scale by (equal values, or apart by a rounding error only)."""
    return hi - lo <= max(abs(lo), abs(hi)) * 1e-12 or hi - lo < 1e-290


class _Dots:
    """The plot area as a dot grid; each dot remembers the condition that set it last."""

    def __init__(self, cols: int, rows: int, rng: tuple[float, float, float, float]) -> None:
        self.cols, self.rows = cols, rows
        self.w, self.h = cols * 2, rows * 4
        self.xmin, self.xmax, self.ymin, self.ymax = rng
        self.bits = [[0] * cols for _ in range(rows)]
        self.colour = [[NONE] * cols for _ in range(rows)]
        self.band = [[NONE] * cols for _ in range(rows)]

    def px(self, x: float) -> float:
        return (x - self.xmin) / (self.xmax - self.xmin) * (self.w - 1)

    def py(self, y: float) -> float:
        if y == math.inf:
            return -1.0
        if y == -math.inf:
            return float(self.h)
        return (self.ymax - y) / (self.ymax - self.ymin) * (self.h - 1)

    def set(self, x: int, y: int, colour: int) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            cx, cy = x // 2, y // 4
            self.bits[cy][cx] |= _BITS[x % 2][y % 4]
            self.colour[cy][cx] = colour

    def is_set(self, x: int, y: int) -> bool:
        return bool(self.bits[y // 4][x // 2] & _BITS[x % 2][y % 4])

    def segment(self, x0: float, y0: float, x1: float, y1: float, colour: int,
                every: int = 1) -> None:
        """A straight run of dots (DDA); ``every`` > 1 draws a dotted line."""
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        steps = min(steps, 4 * (self.w + self.h))  # an off-scale end must not take forever
        dx, dy = (x1 - x0) / steps, (y1 - y0) / steps
        w, h, bits, colours = self.w, self.h, self.bits, self.colour
        for i in range(0, steps + 1, every):  # set() inlined: this loop is most of a redraw
            x, y = round(x0 + dx * i), round(y0 + dy * i)
            if 0 <= x < w and 0 <= y < h:
                cy, cx = y >> 2, x >> 1
                bits[cy][cx] |= _BITS[x & 1][y & 3]
                colours[cy][cx] = colour

    def polyline(self, xs: tuple[float, ...], ys: tuple[float, ...], colour: int,
                 every: int = 1, finite_only: bool = False) -> None:
        """A curve through the points; NaN (and with ``finite_only`` an infinite value: an
        unbounded band edge, shown by the fill alone) breaks it."""
        prev: tuple[float, float] | None = None
        # px/py/_clip_y inlined: a redraw calls this for thousands of points.
        sx = (self.w - 1) / (self.xmax - self.xmin)
        sy = (self.h - 1) / (self.ymax - self.ymin)
        xmin, ymax, bottom = self.xmin, self.ymax, self.h - 1.0
        isfinite = math.isfinite
        for x, y in zip(xs, ys, strict=False):
            if not isfinite(y):
                if not (y == y) or finite_only or not isfinite(x):  # NaN, or a skipped edge
                    prev = None
                    continue
                py = -1.0 if y > 0 else float(self.h)
            elif not isfinite(x):
                prev = None
                continue
            else:
                py = (ymax - y) * sy
            point = ((x - xmin) * sx, min(max(py, 0.0), bottom))
            if prev is None:
                self.segment(*point, *point, colour)
            else:
                self.segment(*prev, *point, colour, every)
            prev = point

    def samples(self, lines: list[Line]) -> None:
        """One dot per finite sample of each line, unjoined: faint replicate curves, drawn by
        the dozen under the means, read as dotted lines. Vectorised, and each dot set once
        (the last line's colour wins), since dozens of curves overlap."""
        if not lines:
            return
        xs = np.concatenate([np.asarray(line.xs, dtype=float) for line in lines])
        ys = np.concatenate([np.asarray(line.ys[:len(line.xs)], dtype=float) for line in lines])
        colour = np.concatenate([np.full(len(line.xs), line.condition) for line in lines])
        with np.errstate(invalid="ignore"):
            px = np.rint((xs - self.xmin) * ((self.w - 1) / (self.xmax - self.xmin)))
            py = np.rint((self.ymax - ys) * ((self.h - 1) / (self.ymax - self.ymin)))
        keep = np.isfinite(px) & np.isfinite(py) & (px >= 0) & (px < self.w) & (py >= 0) & (py < self.h)
        px, py, colour = px[keep].astype(int), py[keep].astype(int), colour[keep]
        key = py * self.w + px
        # np.unique keeps the first occurrence: reverse so the last drawn wins.
        _, first = np.unique(key[::-1], return_index=True)
        pick = len(key) - 1 - first
        for x, y, c in zip(px[pick].tolist(), py[pick].tolist(), colour[pick].tolist(), strict=True):
            self.set(x, y, c)

    def _clip_y(self, y: float) -> float:
        return min(max(y, 0.0), self.h - 1.0)

    def fill_band(self, line: Line) -> None:
        """Mark the cells between the band's edges (clipped to the area) with its condition,
        one cell column at a time (at the column's centre dot)."""
        assert line.low is not None and line.high is not None
        pts = [(self.px(x), lo, hi) for x, lo, hi in zip(line.xs, line.low, line.high, strict=False)
               if math.isfinite(x) and not (math.isnan(lo) or math.isnan(hi))]
        band, condition, last_row = self.band, line.condition, self.rows - 1
        for (xa, la, ha), (xb, lb, hb) in zip(pts, pts[1:], strict=False):
            first = max(0, math.ceil((xa - 0.5) / 2))
            for col in range(first, min(self.cols - 1, math.floor((xb - 0.5) / 2)) + 1):
                t = 0.0 if xb == xa else (2 * col + 0.5 - xa) / (xb - xa)
                # a*(1-t) + b*t: no overflow between edges near the float limit
                hi = ha if math.isinf(ha) or math.isinf(hb) else ha * (1 - t) + hb * t
                lo = la if math.isinf(la) or math.isinf(lb) else la * (1 - t) + lb * t
                top = int(self._clip_y(self.py(hi))) >> 2
                bottom = min(int(self._clip_y(self.py(lo))) >> 2, last_row)
                for cy in range(top, bottom + 1):
                    band[cy][col] = condition
        if len(pts) == 1:
            x, lo, hi = pts[0]
            for y in (self._clip_y(self.py(hi)), self._clip_y(self.py(lo))):
                band[int(y) // 4][int(x) // 2] = condition

    def stacked_point(self, x: float, y: float, colour: int, half_width: int) -> bool:
        """A dot at (x, y), moved sideways (right, left, right, ...) past dots already there,
        at most ``half_width`` dots; False when the row of the strip is full."""
        cx, cy = round(self.px(x)), round(self._clip_y(self.py(y)))
        for k in range(2 * half_width + 1):
            dx = (k + 1) // 2 * (1 if k % 2 else -1)
            if 0 <= cx + dx < self.w and not self.is_set(cx + dx, cy):
                self.set(cx + dx, cy, colour)
                return True
        return False


def _wrap_legend(entries: list[tuple[int, str]], width: int) -> list[list[tuple[int, str]]]:
    rows: list[list[tuple[int, str]]] = [[]]
    used = 0
    for index, label in entries:
        text = f"{LEGEND_MARK} {label}"[: max(width - 2, 4)]
        if rows[-1] and used + 2 + len(text) > width:
            rows.append([])
            used = 0
        rows[-1].append((index, text))
        used += len(text) + (2 if used else 0)
    return [r for r in rows if r]


def too_small(width: int, height: int) -> Drawing:
    msg = f"chart needs {MIN_WIDTH}x{MIN_HEIGHT} cells, have {width}x{height}"[: max(width, 0)]
    return Drawing([msg], [[AXIS] * len(msg)], [[NONE] * len(msg)], too_small=True)


def draw(chart: Chart, width: int, height: int) -> Drawing:
    """The chart drawn into ``width`` x ``height`` cells: title, y tick labels and axis, the
    plot, x ticks and label, legend (wrapped below), then as many notes as fit."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        return too_small(width, height)
    legend = _wrap_legend(chart.legend(), width)
    notes = [n[:width] for n in chart.notes]
    fixed = 1 + 1 + 1 + 1 + len(legend)  # title, x axis, x ticks, x label, legend
    plot_rows = height - fixed
    keep = max(0, min(len(notes), plot_rows - 4, len(notes)))
    keep = keep if plot_rows - keep >= max(4, height // 2) else max(0, plot_rows - max(4, height // 2))
    notes = notes[:keep]
    plot_rows -= len(notes)
    if plot_rows < 3:
        return too_small(width, height)
    rng = data_range(chart)
    y_ticks = nice_ticks(rng[2], rng[3], max(2, plot_rows // 3))
    labels = [tick_label(v) for v in y_ticks]
    gutter = max((len(s) for s in labels), default=1) + 1
    cols = width - gutter - 1
    if cols < 8:
        return too_small(width, height)
    dots = _Dots(cols, plot_rows, rng)
    hidden = _plot(chart, dots)
    if hidden:
        message = f"{hidden} point(s) not drawn: no room in their rows at this size"[:width]
        if notes:
            notes = [message, *notes[:-1]]
        else:
            chart = replace(chart, title=f"{chart.title} ({hidden} points not drawn)")

    grid = [[" "] * width for _ in range(height)]
    colours = [[AXIS] * width for _ in range(height)]
    bands = [[NONE] * width for _ in range(height)]

    def put(row: int, col: int, text: str, colour: int = AXIS) -> None:
        for i, ch in enumerate(text):
            if 0 <= col + i < width and 0 <= row < height:
                grid[row][col + i] = ch
                colours[row][col + i] = colour

    title = chart.title if len(chart.title) <= width else chart.title[: width - 1] + "…"
    put(0, 0, title)
    top = 1
    for r in range(plot_rows):
        put(top + r, gutter, "│")
        for c in range(cols):
            bits = dots.bits[r][c]
            if bits:
                put(top + r, gutter + 1 + c, chr(BRAILLE + bits), dots.colour[r][c])
            bands[top + r][gutter + 1 + c] = dots.band[r][c]
    for v, label in zip(y_ticks, labels, strict=True):
        r = min(plot_rows - 1, max(0, int(dots.py(v)) // 4))
        put(top + r, gutter - 1 - len(label), label)
        put(top + r, gutter, "┤")
    for h in chart.hlines:
        if h.label and rng[2] <= h.y <= rng[3]:
            r = int(dots.py(h.y)) // 4
            put(top + r, width - len(h.label), h.label, REFERENCE)
    axis_row = top + plot_rows
    put(axis_row, gutter, "└" + "─" * cols)
    _x_ticks(chart, dots, put, axis_row, gutter, width)
    x_label = chart.x_label[:width]
    x_at = max(gutter + 1, (gutter + width - len(x_label)) // 2)
    put(axis_row + 2, x_at, x_label)
    # The y axis's label, left on the same row ("↑ loss"), cut short before the x label.
    y_label = f"↑ {chart.y_label}"
    put(axis_row + 2, 0, y_label if len(y_label) < x_at - 1 else y_label[: max(x_at - 2, 0)])
    row = axis_row + 3
    for entries in legend:
        col = 0
        for index, text in entries:
            put(row, col, text[:1], index)
            put(row, col + 1, text[1:])
            col += len(text) + 2
        row += 1
    for note in notes:
        put(row, 0, note)
        row += 1
    return Drawing([_trimmed(r, b) for r, b in zip(grid, bands, strict=True)], colours, bands,
                   hidden_points=hidden)


def _trimmed(row: list[str], fills: list[int]) -> str:
    """The row without trailing blanks, keeping blanks a band fills (they are coloured)."""
    end = len(row)
    while end and row[end - 1] == " " and fills[end - 1] == NONE:
        end -= 1
    return "".join(row[:end])


def _x_ticks(chart: Chart, dots: _Dots, put, axis_row: int, gutter: int, width: int) -> None:
    """Tick marks and labels under the axis, dropping any label that would overlap."""
    if chart.x_ticks:
        ticks = list(chart.x_ticks)
        if len(ticks) > 1:  # history: many runs; label only as many as fit
            room = max(1, dots.cols // max(max(len(t) for _, t in ticks) + 1, 1))
            stride = max(1, math.ceil(len(ticks) / room))
            ticks = ticks[::stride]
    else:
        ticks = [(v, tick_label(v)) for v in nice_ticks(dots.xmin, dots.xmax,
                                                        max(2, dots.cols // 10))]
    free_from = 0
    for v, label in ticks:
        col = gutter + 1 + int(dots.px(v)) // 2
        if not gutter < col < width:
            continue
        put(axis_row, col, "┬")
        start = min(max(col - len(label) // 2, gutter), width - len(label))
        if start >= free_from:
            put(axis_row + 1, start, label)
            free_from = start + len(label) + 1


def _plot(chart: Chart, dots: _Dots) -> int:
    """Bands first (cells only), then faint curves, reference lines, means, points, intervals.
    Returns how many points found no room."""
    hidden = 0
    for line in chart.lines:
        if line.low is not None and line.high is not None:
            dots.fill_band(line)
    dots.samples([line for line in chart.lines if line.faint])
    for h in chart.hlines:
        y = dots.py(h.y)
        if 0 <= y < dots.h:
            dots.segment(0, y, dots.w - 1, y, REFERENCE, every=2)
    for line in chart.lines:
        if line.low is not None and line.high is not None:
            dots.polyline(line.xs, line.low, line.condition, every=2, finite_only=True)
            dots.polyline(line.xs, line.high, line.condition, every=2, finite_only=True)
    for line in chart.lines:
        if not line.faint:
            dots.polyline(line.xs, line.ys, line.condition)
    slot = max(1, int(dots.w / max(dots.xmax - dots.xmin, 1) * 0.3))
    for pts in chart.points:
        for x, y in zip(pts.xs, pts.ys, strict=False):
            if math.isfinite(x) and math.isfinite(y):
                hidden += not dots.stacked_point(x, y, pts.condition, slot)
    for iv in chart.intervals:
        x = dots.px(iv.x)
        if math.isfinite(iv.low) and math.isfinite(iv.high):
            dots.segment(x, dots.py(iv.high), x, dots.py(iv.low), iv.condition)
            for y in (dots.py(iv.high), dots.py(iv.low)):
                dots.segment(x - 1, y, x + 1, y, iv.condition)
        if math.isfinite(iv.centre):
            y = dots.py(iv.centre)
            dots.segment(x - 2, y, x + 2, y, iv.condition)
    return hidden
