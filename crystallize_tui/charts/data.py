"""Charts built from plain numbers, and the numbers read from a run (a Result, stored or live).

Pure functions: lists of floats in, a ``model.Chart`` out. A *series* metric is one recorded
several times in a replicate (loss per epoch); a *scalar* is recorded once. Condition i of a
chart is the i-th key of the dict given (baseline first, then treatments in declaration order),
which is the colour index every view uses (render/palette.py)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .model import Chart, HLine, Interval, Line, Points

Curve = list[float]
Trajectory = list[tuple[int, float, float, float]]  # (n, estimate, low, high)
BANDS = ("iqr", "ci")


def _numbers(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values`` as floats (bools count as 0/1; text and None go)."""
    out = []
    for v in values:
        if isinstance(v, (int, float)) and not (isinstance(v, float) and not math.isfinite(v)):
            out.append(float(v))
    return out


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if len(values) else math.nan


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return math.nan
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def is_binary(values: Sequence[float]) -> bool:
    """Every value 0 or 1 (a rate: win, converted)."""
    return bool(values) and all(v == 0 or v == 1 for v in values)


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and its confidence interval: Wilson's score interval for 0/1 values (a rate's
    interval stays within [0, 1] and is not zero-width at 0 or 1 hits, unlike the t
    interval; Wilson 1927), else the t interval; (mean, nan, nan) below two values."""
    n = len(values)
    if n < 2:
        return mean(values), math.nan, math.nan
    if is_binary(values):
        from scipy.special import ndtri

        p, z = sum(values) / n, float(ndtri(0.5 + level / 2))
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return p, max(0.0, centre - half), min(1.0, centre + half)
    # scipy.special, not scipy.stats: the same quantile at a fifth of the import time, which
    # is most of what `crystallize show --plot` takes.
    from scipy.special import stdtrit

    arr = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):  # values near the float limit: inf, drawn at the edge
        m = float(np.mean(arr))
        half = float(stdtrit(n - 1, 0.5 + level / 2) * np.std(arr, ddof=1) / math.sqrt(n))
    return m, m - half, m + half


REPLICATE_CURVES = 40  # faint curves drawn per condition at most: more is a solid smear


def _steps(reps: list[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """Per step: the values of the replicates still going as a (replicates x steps) array
    padded with NaN, and how many replicates reached each step."""
    length = max((len(r) for r in reps), default=0)
    grid = np.full((len(reps), length), np.nan)
    for i, r in enumerate(reps):
        try:
            grid[i, :len(r)] = r
        except (TypeError, ValueError):  # text or None among the numbers: those steps are gaps
            grid[i, :len(r)] = [v if isinstance(v, (int, float)) else np.nan for v in r]
    grid[~np.isfinite(grid)] = np.nan
    return grid, np.sum(~np.isnan(grid), axis=0)


def _quartiles(grid: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 25th and 75th percentiles per step. np.nanpercentile goes column by column in
    Python (40 ms for 500 x 60), so whole columns go through np.percentile at once and
    only the steps some replicates did not reach are done one by one."""
    full = counts == grid.shape[0]
    low, high = np.full(grid.shape[1], np.nan), np.full(grid.shape[1], np.nan)
    if full.any():
        low[full], high[full] = np.percentile(grid[:, full], [25, 75], axis=0)
    for step in np.flatnonzero(~full & (counts > 0)):
        column = grid[:, step]
        low[step], high[step] = np.percentile(column[~np.isnan(column)], [25, 75])
    return low, high


def series_chart(curves: dict[str, list[Curve]], metric: str, band: str = "iqr",
                 replicates: bool = False) -> Chart:
    """Mean curve per condition over the step (1, 2, ...) with a band: the interquartile
    range of the replicates ("iqr") or the 95% confidence interval of the mean ("ci").
    Replicates of unequal length count at each step only while they last. ``replicates``
    also draws each replicate's own curve, faint, under the means (the first
    REPLICATE_CURVES per condition). Vectorised: a redraw with 500 replicates must fit a frame."""
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
    lines: list[Line] = []
    faint: list[Line] = []
    notes = []
    for index, (condition, reps) in enumerate(curves.items()):
        grid, counts = _steps(reps)
        xs = tuple(float(i + 1) for i in range(grid.shape[1]))
        if grid.shape[1] == 0:
            lines.append(Line(condition, index, (), (), (), ()))
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a step no replicate has: NaN
            means = np.nanmean(grid, axis=0)
            if band == "iqr":
                low, high = _quartiles(grid, counts)
            else:
                from scipy.special import stdtrit

                sd = np.nanstd(grid, axis=0, ddof=1)
                dof = np.where(counts > 1, counts - 1, np.nan)
                half = stdtrit(dof, 0.975) * sd / np.sqrt(counts)
                low, high = means - half, means + half
        lines.append(Line(condition, index, xs, tuple(means.tolist()), tuple(low.tolist()),
                          tuple(high.tolist())))
        if replicates:
            shown = reps[:REPLICATE_CURVES]
            faint.extend(Line(condition, index, xs[:len(r)], tuple(grid[k, :len(r)].tolist()),
                              faint=True) for k, r in enumerate(shown))
            if len(reps) > len(shown):
                notes.append(f"{condition}: the first {len(shown)} of {len(reps)} replicate "
                             "curves drawn")
    what = "interquartile range" if band == "iqr" else "95% CI of the mean"
    counts_note = ", ".join(f"{c} {len(r)}" for c, r in curves.items())
    return Chart(f"{metric}: mean per step, band = {what}", "step", metric,
                 lines=tuple(faint + lines), notes=(f"replicates: {counts_note}", *notes),
                 kind="series", conditions=tuple(curves))


def distribution_chart(values: dict[str, list[float]], metric: str) -> Chart:
    """A strip per condition (one point per replicate, equal values stacked side by side
    by the canvas) with the mean and its 95% confidence interval beside it."""
    points, intervals, notes = [], [], []
    for index, (condition, vals) in enumerate(values.items()):
        nums = _numbers(vals)
        points.append(Points(condition, index, tuple(float(index) for _ in nums), tuple(nums)))
        m, lo, hi = mean_ci(nums)
        intervals.append(Interval(condition, index, index + 0.3, m, lo, hi))
        how = " (Wilson)" if is_binary(nums) else ""
        notes.append(f"{condition}: mean {m:.4g} [{lo:.4g}, {hi:.4g}]{how} n={len(nums)}")
    ticks = tuple((float(i), c) for i, c in enumerate(values))
    return Chart(f"{metric}: one point per replicate, mean and 95% CI", "condition", metric,
                 points=tuple(points), intervals=tuple(intervals), notes=tuple(notes),
                 kind="distribution", conditions=tuple(values), x_ticks=ticks)


def decided_at(traj: Trajectory) -> int | None:
    """The first replicate count at which the interval excludes zero, if any."""
    for n, _, low, high in traj:
        if low > 0 or high < 0:
            return n
    return None


def anytime_chart(traj: dict[str, Trajectory], metric: str,
                  conditions: Sequence[str] | None = None) -> Chart:
    """Each treatment-minus-baseline estimate over replicates with its anytime-valid
    interval as a band, the zero line, and "decided at replicate k" where it first
    excluded zero. ``conditions`` (baseline first) fixes the colour indices; by default
    the treatments take 1, 2, ... in the order given."""
    names = list(conditions) if conditions else ["baseline", *traj]
    lines, notes = [], []
    for treatment, points in traj.items():
        index = names.index(treatment) if treatment in names else len(names)
        lines.append(Line(treatment, index, tuple(float(p[0]) for p in points),
                          tuple(p[1] for p in points), tuple(p[2] for p in points),
                          tuple(p[3] for p in points)))
        k = decided_at(points)
        bounded = next((p[0] for p in points if math.isfinite(p[2]) and math.isfinite(p[3])), None)
        if bounded is None and points:
            notes.append(f"{treatment}: interval unbounded so far (burn-in or skewed differences)")
        elif bounded is not None and bounded > points[0][0]:
            notes.append(f"{treatment}: interval unbounded before replicate {bounded} (burn-in)")
        last = points[-1] if points else None
        if k is not None:
            notes.append(f"{treatment}: decided at replicate {k}")
        elif last is not None:
            notes.append(f"{treatment}: undecided after {last[0]} replicate(s)")
        else:
            notes.append(f"{treatment}: no paired replicates yet")
    base = names[0] if names else "baseline"
    return Chart(f"{metric}: treatment - {base}, anytime-valid interval", "replicates",
                 f"difference in {metric}", lines=tuple(lines),
                 hlines=(HLine(0.0, "0"),), notes=tuple(notes), kind="anytime",
                 conditions=tuple(names))


def history_chart(runs: list[tuple[str, str, float, float, float]], metric: str) -> Chart:
    """One run per x position (oldest first): its mean of ``metric`` and interval, joined
    by a line, so a drift between runs shows. Each run is (run_id, label, mean, low, high)."""
    intervals = tuple(Interval(label, 0, float(i), m, lo, hi)
                      for i, (_, label, m, lo, hi) in enumerate(runs))
    line = Line(metric, 0, tuple(float(i) for i in range(len(runs))), tuple(r[2] for r in runs))
    ticks = tuple((float(i), label) for i, (_, label, *_rest) in enumerate(runs))
    notes = tuple(f"{label}: {run_id} mean {m:.4g} [{lo:.4g}, {hi:.4g}]"
                  for run_id, label, m, lo, hi in runs)
    return Chart(f"{metric} across runs: mean and 95% CI", "run", metric, lines=(line,),
                 intervals=intervals, notes=notes, kind="history", conditions=(metric,),
                 x_ticks=ticks)


# -- from a run ----------------------------------------------------------------------------
SERIES, SCALAR = "series", "scalar"


def metric_kinds(rows: Iterable[Iterable[tuple[str, Any]]]) -> dict[str, str]:
    """Each metric's kind, in first-recorded order: "series" when some replicate recorded it
    more than once, else "scalar". ``rows`` are replicates' (name, value) lists in order."""
    kinds: dict[str, str] = {}
    for values in rows:
        seen: set[str] = set()
        for name, _ in values:
            if name in seen:
                kinds[name] = SERIES
            else:
                seen.add(name)
                kinds.setdefault(name, SCALAR)
    return kinds


def run_metric_kinds(result: Any) -> dict[str, str]:
    """``metric_kinds`` over a Result's replicates that finished."""
    return metric_kinds(r.values for r in result.replicate_results if r.ok)


def replicate_series(result: Any, metric: str) -> dict[str, list[Curve]]:
    """Per condition, per finished replicate (in replicate order), every value of ``metric``
    in the order recorded. Replicates that failed or never recorded it are left out."""
    out: dict[str, list[Curve]] = {}
    for condition in result.conditions:
        reps = sorted((r for r in result.replicate_results
                       if r.treatment == condition and r.ok), key=lambda r: r.replicate)
        out[condition] = [s for s in (_numbers(r.series(metric)) for r in reps) if s]
    return out


def replicate_values(result: Any, metric: str) -> dict[str, list[float]]:
    """Per condition, each finished replicate's last value of ``metric`` (what tables use)."""
    return {c: [s[-1] for s in curves] for c, curves in replicate_series(result, metric).items()}


class Trajectories:
    """The anytime-valid interval of every treatment x metric after each complete round,
    kept as replicates arrive (a live run) or replayed from a Result: one
    watch/live_stats.AnytimeStatistics inside, so the methods and the correction across rows
    (Holm unless the run's stop rule chose another) are those of the live rows. ``add`` costs O(rows) per completed round."""

    def __init__(self, conditions: Sequence[str], alpha: float = 0.05,
                 directions: dict[str, str] | None = None, correction: str | None = None,
                 bounds: dict[str, tuple[float, float]] | None = None) -> None:
        from ..watch.live_stats import AnytimeStatistics

        self.conditions = list(conditions)
        self.stats = AnytimeStatistics(self.conditions, alpha=alpha, directions=directions,
                                       correction=correction, bounds=bounds)
        self.points: dict[tuple[str, str], Trajectory] = {}  # (treatment, metric) -> points

    def add(self, condition: str, replicate: int, metrics: dict[str, Any] | None) -> bool:
        """One replicate over (``metrics`` None: failed); True when a round completed."""
        if not self.stats.add(condition, replicate, metrics):
            return False
        for row in self.stats.rows():
            points = self.points.setdefault((row.treatment, row.metric), [])
            if not points or points[-1][0] != row.n:
                points.append((row.n, row.estimate, row.lower, row.upper))
        return True

    def of(self, metric: str) -> dict[str, Trajectory]:
        """Per treatment (declaration order), the trajectory of ``metric`` so far."""
        return {t: list(self.points.get((t, metric), [])) for t in self.conditions[1:]}


def anytime_trajectories(result: Any, metric: str, alpha: float = 0.05
                         ) -> dict[str, Trajectory]:
    """Per treatment, the anytime-valid interval of treatment - baseline for ``metric``
    after each complete round of replicates, recomputed as the run's live rows were
    (watch/live_stats.AnytimeStatistics: same methods, same correction across the rows)."""
    from ..watch.live_stats import result_bounds, stored_correction

    hypotheses = getattr(result, "declared_hypotheses", [])
    traj = Trajectories(result.conditions, alpha, {h.metric: h.direction for h in hypotheses},
                        stored_correction(getattr(result, "stop", None)),
                        result_bounds(result))
    for outcome in sorted(result.replicate_results, key=lambda o: o.replicate):
        traj.add(outcome.treatment, outcome.replicate,
                 dict(outcome.metrics) if outcome.ok else None)
    return traj.of(metric)


def hypothesis_metrics(result: Any) -> list[str]:
    """The metrics the run's hypotheses name, in declaration order, without repeats."""
    seen: list[str] = []
    for h in getattr(result, "declared_hypotheses", []):
        if h.metric not in seen:
            seen.append(h.metric)
    return seen


def two_runs_chart(a: dict[str, list[float]], b: dict[str, list[float]], metric: str,
                   names: tuple[str, str] = ("A", "B")) -> Chart:
    """Two runs side by side: per condition both have, run A's strip and mean with its 95%
    CI, then run B's, in the condition's colour (the categories are "condition A",
    "condition B"), and a note with the difference of the means."""
    points, intervals, ticks, notes = [], [], [], []
    conditions = list(a)
    for index, condition in enumerate(conditions):
        if condition not in b:
            continue
        means = []
        for values, name in ((a[condition], names[0]), (b[condition], names[1])):
            x = float(len(ticks))
            nums = _numbers(values)
            points.append(Points(condition, index, tuple(x for _ in nums), tuple(nums)))
            m, lo, hi = mean_ci(nums)
            intervals.append(Interval(condition, index, x + 0.3, m, lo, hi))
            ticks.append((x, f"{condition} {name}"))
            means.append(m)
        notes.append(f"{condition}: {names[1]} - {names[0]} = {means[1] - means[0]:+.4g} "
                     f"(means {means[0]:.4g} -> {means[1]:.4g})")
    return Chart(f"{metric}: run {names[0]} vs run {names[1]}, mean and 95% CI", "run",
                 metric, points=tuple(points), intervals=tuple(intervals), notes=tuple(notes),
                 kind="distribution", conditions=tuple(conditions), x_ticks=tuple(ticks))
