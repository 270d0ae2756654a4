"""Charts of past runs: a metric's mean and interval across an experiment's runs, and two runs side by side."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from ...charts import data
from ...charts.canvas import Drawing
from ...charts.model import Chart, Interval, Points
from ...charts.runs import history_chart
from ..widgets.chart import ChartView, drawn
from ..widgets.footer import KeyFooter


def compare_chart(a: Any, b: Any, metric: str) -> Chart:
    """Each condition both runs have, run A then run B side by side: one point per
    replicate and the mean with its 95% CI, in the condition's colour (as in every chart)."""
    points, intervals, ticks, notes = [], [], [], []
    values_a, values_b = data.replicate_values(a, metric), data.replicate_values(b, metric)
    for index, condition in enumerate(a.conditions):
        if condition not in b.conditions:
            continue
        for side, values in (("A", values_a.get(condition, [])), ("B", values_b.get(condition, []))):
            x = float(len(ticks))
            ticks.append((x, f"{condition} {side}"))
            points.append(Points(condition, index, tuple(x for _ in values), tuple(values)))
            m, lo, hi = data.mean_ci(values)
            intervals.append(Interval(condition, index, x + 0.3, m, lo, hi))
            notes.append(f"{condition} {side}: mean {m:.4g} [{lo:.4g}, {hi:.4g}] n={len(values)}")
    return Chart(f"{metric}: run A = {a.run_id} vs run B = {b.run_id}, a point per replicate, "
                 "mean and 95% CI", "condition and run", metric, points=tuple(points),
                 intervals=tuple(intervals), notes=tuple(notes), kind="distribution",
                 conditions=tuple(a.conditions), x_ticks=tuple(ticks))


def in_colour(chart: Chart, conditions: list[str], condition: str) -> Chart:
    """``chart`` (one condition across runs) drawn in ``condition``'s own colour, the one
    it has in every other chart and table."""
    index = conditions.index(condition) if condition in conditions else 0
    return replace(chart, conditions=tuple(conditions),
                   lines=tuple(replace(line, condition=index) for line in chart.lines),
                   intervals=tuple(replace(iv, condition=index) for iv in chart.intervals))


def shared_metrics(results: list[Any]) -> list[str]:
    """Metrics in the order first recorded across ``results``."""
    names: list[str] = []
    for result in results:
        names += [m for m in data.run_metric_kinds(result) if m not in names]
    return names


class ChartScreen(Screen):
    """One chart of stored runs; m cycles the metric, n the condition (history)."""

    BINDINGS = [
        Binding("m", "next_metric", "Metric", tooltip="Chart the next metric"),
        Binding("n", "next_condition", "Condition",
                tooltip="Across runs: the mean of the next condition (baseline first)"),
        Binding("escape", "back", "Back"),
    ]

    @dataclass
    class Loaded(Message):
        """The runs were read from the store (in a thread), or could not be."""

        results: list[Any]
        error: str | None = None

    @dataclass
    class Drawn(Message):
        """A chart built and drawn in a thread at the view's size (None: ``placeholder``)."""

        chart: Chart | None
        drawing: Drawing | None
        text: Text | None
        size: tuple[int, int]
        placeholder: str = ""

    def __init__(self, experiment: Any, run_ids: list[str] | None = None,
                 pair: tuple[Any, Any] | None = None) -> None:
        super().__init__()
        self.experiment = experiment
        self.run_ids = list(run_ids or [])  # newest first, as History lists them
        self.pair = pair  # two Results: the comparison chart
        self.results: list[Any] = list(pair) if pair else []
        self.metrics: list[str] = shared_metrics(self.results)
        self.metric: str | None = self.metrics[0] if self.metrics else None
        self.conditions: list[str] = []
        self.condition = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="pane", id="chart-pane"):
            yield Static(id="chart-status")
            yield ChartView("reading the runs…", redraw_on_resize=False, id="chart")
        yield KeyFooter()

    def on_mount(self) -> None:
        name = getattr(self.experiment, "name", "") or (self.results[0].experiment
                                                        if self.results else "")
        self.title = f"{'compare runs' if self.pair else 'history'} of {name}: chart"
        self.query_one("#chart-pane").border_title = (
            "run B vs run A" if self.pair else "a metric's mean and 95% CI across runs, oldest first")
        if self.pair is None:
            self.load(self.experiment.store, list(reversed(self.run_ids)))
        else:
            self._draw()

    @work(thread=True, exclusive=True, group="history-chart", exit_on_error=False)
    def load(self, store: Any, run_ids: list[str]) -> None:
        try:
            results = [store.load(run_id) for run_id in run_ids]
        except Exception as exc:  # noqa: BLE001 - a damaged store: say so on the screen
            self.post_message(self.Loaded([], f"cannot read the runs: {exc}"))
            return
        self.post_message(self.Loaded(results))

    def on_chart_screen_loaded(self, message: Loaded) -> None:
        if message.error is not None:
            self.query_one("#chart", ChartView).show(None, placeholder=message.error)
            return
        self.results = message.results
        self.metrics = shared_metrics(self.results)
        self.conditions = []
        for result in self.results:
            self.conditions += [c for c in result.conditions if c not in self.conditions]
        self.metric = self.metrics[0] if self.metrics else None
        self.condition = self.conditions[0] if self.conditions else ""
        self.refresh_bindings()  # m and n apply now that the runs are read
        self._draw()

    def on_resize(self) -> None:
        if self.results:
            self._draw()  # at the new size, in the thread

    def _draw(self) -> None:
        view = self.query_one("#chart", ChartView)
        status = Text()
        if self.metric is None:
            view.show(None, placeholder="no run recorded a metric yet")
        else:
            size = (view.content_size.width, view.content_size.height)
            if not all(size):  # not laid out yet: drawn once it is
                self.call_after_refresh(self._draw)
                return
            self._build(self.metric, self.condition, size, view.dark)
            status.append(f"{self.metric}", style="bold")
            if self.pair is None:
                status.append(f" · {self.condition}", style="bold")
                status.append(f" · {len(self.results)} run(s)")
        status.append("  m: next metric" + ("" if self.pair else " · n: next condition"),
                      style="dim")
        self.query_one("#chart-status", Static).update(status)

    @work(thread=True, exclusive=True, group="chart-draw", exit_on_error=False)
    def _build(self, metric: str, condition: str, size: tuple[int, int], dark: bool) -> None:
        """Means and intervals over every replicate of the runs, and the canvas: a large
        run takes a while (bench/RESULTS.md), so not on the UI thread."""
        try:
            chart = (compare_chart(*self.pair, metric) if self.pair is not None
                     else in_colour(history_chart(self.results, metric, condition),
                                    self.conditions, condition))
        except Exception as exc:  # noqa: BLE001 - no run recorded it in this condition
            self.post_message(self.Drawn(None, None, None, size, str(exc)))
            return
        drawing, text = drawn(chart, *size, dark) if all(size) else (None, None)
        self.post_message(self.Drawn(chart, drawing, text, size))

    def on_chart_screen_drawn(self, message: Drawn) -> None:
        view = self.query_one("#chart", ChartView)
        if message.chart is None:
            view.show(None, placeholder=message.placeholder)
        else:
            view.show(message.chart, message.drawing, message.text, message.size)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_condition":
            return self.pair is None and len(self.conditions) > 1
        if action == "next_metric":
            return len(self.metrics) > 1
        return True

    def action_next_metric(self) -> None:
        if self.metrics:
            i = self.metrics.index(self.metric) if self.metric in self.metrics else -1
            self.metric = self.metrics[(i + 1) % len(self.metrics)]
            self._draw()

    def action_next_condition(self) -> None:
        if self.conditions:
            i = self.conditions.index(self.condition) if self.condition in self.conditions else -1
            self.condition = self.conditions[(i + 1) % len(self.conditions)]
            self._draw()

    def action_back(self) -> None:
        self.app.pop_screen()
