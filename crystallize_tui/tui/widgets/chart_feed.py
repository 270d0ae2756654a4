"""The replicates a charts view draws (stored, or read from the store as a run goes) and the charts built from them.

Plain Python (no textual, no rich): the charts view's worker thread feeds and asks it, so
the UI thread only puts finished drawings on screen."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ...charts import data
from ...charts.model import Chart
from ...core.hypothesis import stored_metric_bounds
from ...core.result import ReplicateResult, Result

Trajectories = dict[str, list[tuple[int, float, float, float]]]


@dataclass(frozen=True)
class ChartPair:
    """What the view shows for one metric: its own chart and the anytime difference chart."""

    metric: str
    kind: str  # data.SERIES or data.SCALAR
    main: Chart
    difference: Chart | None  # None with a single condition


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value))


class ChartFeed:
    """Replicates keyed by (condition, replicate), and each numeric metric's kind.

    Not thread-safe: one worker feeds and asks it at a time (the view's workers are exclusive)."""

    def __init__(self, conditions: Iterable[str], hypotheses: Iterable[Any] = (),
                 metric_bounds: Any = None) -> None:
        self.conditions = list(conditions)
        self.hypotheses = list(hypotheses)
        self.metric_bounds = metric_bounds  # the experiment's, for the anytime trajectories
        self.records: dict[tuple[str, int], ReplicateResult] = {}
        # Each finished replicate's numeric values per metric, read once when it comes in.
        self.numbers: dict[tuple[str, int], dict[str, list[float]]] = {}
        self._unsent: set[tuple[str, int]] = set()  # replicates new since ``new_series``
        self.kinds: dict[str, str] = {}  # numeric metrics only, first recorded first
        # What is derived from the replicates, kept until more come: a stored run's anytime
        # trajectories are computed once per metric, not at every key press.
        self._derived: dict[Any, Any] = {}

    @classmethod
    def of_result(cls, result: Result) -> ChartFeed:
        feed = cls(result.conditions, getattr(result, "declared_hypotheses", []),
                   getattr(result, "metric_bounds", None))
        feed.add(result.replicate_results)
        return feed

    def add(self, replicates: Iterable[ReplicateResult]) -> int:
        """Take replicates in (a repeat of one already here replaces it); how many were new."""
        new = 0
        for rep in replicates:
            key = (rep.treatment, rep.replicate)
            old = self.records.get(key)
            if old is not None and old.status == rep.status and old.values == rep.values:
                continue  # read again (a live tail looks back a few seconds): nothing changed
            new += old is None
            self.records[key] = rep
            self.numbers.pop(key, None)
            self._unsent.add(key)
            self._derived.clear()
            if not rep.ok:
                continue
            numbers: dict[str, list[float]] = {}
            for name, value in rep.values:
                if not _numeric(value) or math.isinf(value):
                    continue
                if name in numbers:
                    self.kinds[name] = data.SERIES
                    numbers[name].append(float(value))
                else:
                    numbers[name] = [float(value)]
                    self.kinds.setdefault(name, data.SCALAR)
            self.numbers[key] = numbers
        return new

    @property
    def metrics(self) -> list[str]:
        return list(self.kinds)

    def series(self) -> dict[tuple[str, int], dict[str, list[float]]]:
        """Each finished replicate's series metrics (for the replicate table's sparklines)."""
        names = [m for m, k in self.kinds.items() if k == data.SERIES]
        if not names:
            return {}
        return {key: {m: numbers[m] for m in names if m in numbers}
                for key, numbers in self.numbers.items()}

    def new_series(self) -> dict[tuple[str, int], dict[str, list[float]]]:
        """``series()`` of the replicates that came in since the last call (so the UI
        thread only updates the rows that changed)."""
        names = [m for m, k in self.kinds.items() if k == data.SERIES]
        keys, self._unsent = self._unsent, set()
        if not names:
            return {}
        return {key: {m: self.numbers[key][m] for m in names if m in self.numbers[key]}
                for key in keys if key in self.numbers}

    def curves(self, metric: str) -> dict[str, list[list[float]]]:
        """Per condition (in order), each finished replicate's values of ``metric`` in
        replicate order (those that never recorded it are left out)."""
        def make() -> dict[str, list[list[float]]]:
            out: dict[str, list[list[float]]] = {c: [] for c in self.conditions}
            for key in sorted(self.numbers, key=lambda k: k[1]):
                values = self.numbers[key].get(metric)
                if values and key[0] in out:
                    out[key[0]].append(values)
            return out
        return self._cached(("curves", metric), make)

    def _cached(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def result(self) -> Result:
        """The replicates here as a Result (what the chart builders read)."""
        return self._cached("result", self._result)

    def _result(self) -> Result:
        outcomes = [r for r in self.records.values() if r.treatment in self.conditions]
        done = {r.replicate for r in outcomes}
        result = Result(run_id="charts", experiment="", seed=0, replicates=len(done),
                        conditions=list(self.conditions), configs={}, outcomes=outcomes,
                        status="running", complete=False, hypotheses=self.hypotheses,
                        metric_bounds=stored_metric_bounds(self.metric_bounds))
        return result

    def charts(self, metric: str, replicates: bool = False,
               trajectories: Callable[[str], Trajectories] | None = None) -> ChartPair:
        """``metric``'s chart (mean curves with a band, or one point per replicate) and the
        anytime-valid difference of each treatment over replicates. ``trajectories``: the
        live feed's (watch/live_stats.py); without it they are recomputed from the replicates."""
        kind = self.kinds.get(metric, data.SCALAR)
        curves = self.curves(metric)
        if kind == data.SERIES:
            main = data.series_chart(curves, metric, replicates=replicates)
        else:
            main = data.distribution_chart({c: [v[-1] for v in reps] for c, reps in curves.items()},
                                           metric)
        difference = None
        if len(self.conditions) > 1:
            traj = trajectories(metric) if trajectories is not None else None
            if not traj:  # not fed live (a stored run, or one that ended): from the replicates
                traj = self._cached(("anytime", metric),
                                    lambda: data.anytime_trajectories(self.result(), metric))
            difference = data.anytime_chart(traj, metric, self.conditions)
        return ChartPair(metric, kind, main, difference)

