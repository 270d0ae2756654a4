"""The charts of a run (a Result) and of an experiment's runs: which chart each metric gets,
and one-line errors for a metric or condition the run does not have."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

from ..core.errors import ConfigError
from . import data
from .model import Chart

CHART_KINDS = ("series", "distribution", "anytime")


def check_metric(result: Any, metric: str) -> str:
    """``metric``'s kind ("series" or "scalar") in this run, or a ConfigError naming it and
    the metrics the run has."""
    kinds = data.run_metric_kinds(result)
    if metric in kinds:
        return kinds[metric]
    if not kinds:
        raise ConfigError(f"run {result.run_id}: no metric was recorded (no replicate finished)")
    close = difflib.get_close_matches(metric, list(kinds), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"run {result.run_id} has no metric {metric!r}{hint} "
                      f"(it has: {', '.join(kinds)})")


def chart_for(result: Any, metric: str, kind: str | None = None, band: str = "iqr",
              replicates: bool = False) -> Chart:
    """One chart of ``metric``: ``kind`` "series" (mean curve per condition), "distribution"
    (a point per replicate) or "anytime" (treatment - baseline interval over replicates); by
    default series for a series metric, else distribution."""
    metric_kind = check_metric(result, metric)
    kind = kind or ("series" if metric_kind == data.SERIES else "distribution")
    if kind not in CHART_KINDS:
        raise ConfigError(f"--kind {kind!r}: choose from {', '.join(CHART_KINDS)}")
    if kind == "series":
        return data.series_chart(data.replicate_series(result, metric), metric, band, replicates)
    if kind == "distribution":
        return data.distribution_chart(data.replicate_values(result, metric), metric)
    if len(result.conditions) < 2:
        raise ConfigError(f"run {result.run_id} has only the {result.conditions[0]} condition: "
                          "an anytime chart needs a treatment to compare with it")
    return data.anytime_chart(data.anytime_trajectories(result, metric), metric,
                              result.conditions)


def run_charts(result: Any, metric: str | None = None, band: str = "iqr",
               replicates: bool = False) -> list[Chart]:
    """What ``show --plot`` draws: for ``metric`` (or every metric) its series or
    distribution chart, then the anytime chart of each hypothesis metric (of ``metric``
    alone when one is named) when the run has treatments."""
    kinds = data.run_metric_kinds(result)
    if metric is not None:
        check_metric(result, metric)
    names = [metric] if metric else list(kinds)
    charts = [chart_for(result, name, None, band, replicates) for name in names]
    if len(result.conditions) > 1:
        wanted = [metric] if metric else [m for m in data.hypothesis_metrics(result) if m in kinds]
        charts += [chart_for(result, name, "anytime") for name in wanted]
    return charts


def history_runs(results: Sequence[Any], metric: str, condition: str = ""
                 ) -> list[tuple[str, str, float, float, float]]:
    """(run_id, label, mean, low, high) of ``metric`` in ``condition`` (default: each run's
    baseline) for each run that recorded it, in the order given; labels are 1, 2, ..."""
    rows = []
    for result in results:
        name = condition or result.conditions[0]
        values = data.replicate_values(result, metric).get(name, [])
        if not values:
            continue
        m, lo, hi = data.mean_ci(values)
        rows.append((result.run_id, str(len(rows) + 1), m, lo, hi))
    return rows


def history_chart(results: Sequence[Any], metric: str, condition: str = "") -> Chart:
    """``metric``'s mean and 95% CI per run (oldest first), or a ConfigError when no run
    recorded it."""
    rows = history_runs(results, metric, condition)
    if not rows:
        which = f" in condition {condition!r}" if condition else ""
        raise ConfigError(f"no run of {results[0].experiment if results else 'it'} recorded "
                          f"metric {metric!r}{which}")
    chart = data.history_chart(rows, metric)
    where = condition or "baseline"
    drift = [r for r in rows if not math.isnan(r[3])]
    notes = chart.notes
    if len(drift) >= 2:
        notes = (*notes, f"first to last: {drift[-1][2] - drift[0][2]:+.4g} ({where})")
    return Chart(f"{metric} ({where}) across runs: mean and 95% CI", chart.x_label,
                 chart.y_label, chart.lines, chart.points, chart.intervals, chart.hlines,
                 notes, chart.kind, (where,), chart.x_ticks)


def two_runs(a: Any, b: Any, metric: str) -> Chart:
    """``metric`` of run ``a`` and run ``b`` side by side per condition both ran (A, B in the
    notes by run id), or a ConfigError naming what is missing."""
    check_metric(a, metric)
    check_metric(b, metric)
    if not set(a.conditions) & set(b.conditions):
        raise ConfigError(f"runs {a.run_id} and {b.run_id} share no condition")
    chart = data.two_runs_chart(data.replicate_values(a, metric),
                                data.replicate_values(b, metric), metric)
    return Chart(chart.title, chart.x_label, chart.y_label, chart.lines, chart.points,
                 chart.intervals, chart.hlines,
                 (f"A = {a.run_id}, B = {b.run_id}", *chart.notes), chart.kind,
                 chart.conditions, chart.x_ticks)
