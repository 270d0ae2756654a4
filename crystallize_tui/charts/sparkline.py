"""One-line sparklines (▁▂▃▄▅▆▇█) for tables: a series metric's curve, a rate over time."""

from __future__ import annotations

import math
from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def resample(values: Sequence[float], width: int) -> list[float]:
    """``values`` in ``width`` buckets (the mean of each; NaN where a bucket has no finite
    value); shorter series are kept as they are."""
    if width <= 0:
        return []
    if len(values) <= width:
        return [float(v) for v in values]
    out = []
    for i in range(width):
        lo, hi = i * len(values) // width, (i + 1) * len(values) // width
        bucket = [float(v) for v in values[lo:max(hi, lo + 1)] if math.isfinite(v)]
        out.append(math.fsum(bucket) / len(bucket) if bucket else math.nan)
    return out


def sparkline(values: Sequence[float], width: int | None = None,
              low: float | None = None, high: float | None = None) -> str:
    """A bar per value (or per bucket when ``width`` is smaller), scaled between ``low`` and
    ``high`` (default: the series' own range; equal values sit in the middle). A missing
    or non-finite value is a space."""
    points = resample(values, width if width is not None else len(values))
    finite = [v for v in points if math.isfinite(v)]
    if not finite:
        return " " * len(points)
    lo = min(finite) if low is None else low
    hi = max(finite) if high is None else high
    span = hi - lo
    top = len(BARS) - 1
    chars = []
    for v in points:
        if not math.isfinite(v):
            chars.append(" ")
        elif not (math.isfinite(span) and span > 0):
            chars.append(BARS[top // 2])
        else:
            chars.append(BARS[min(top, max(0, round((v - lo) / span * top)))])
    return "".join(chars)
