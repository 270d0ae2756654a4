"""The charts view of the run screens (own run, attached run, stored run): keys, source and sparklines.

A mixin, so run.py and attached.py only add a container, the bindings and a line in
check_action: what the charts show comes from the screen's own state (its Result once there
is one, else the run it follows live) and the live anytime feed the statistics pane uses."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from ...core.result import Result
from ..widgets.chart_feed import ChartFeed
from ..widgets.chart_pane import ChartSource, ChartsPane
from ..widgets.tables import ReplicateTable

CHART_BINDINGS = [
    Binding("g", "toggle_charts", "Charts",
            tooltip="Charts beside the tables: the metric per condition (mean curve with its "
                    "interquartile band, or one point per replicate with the mean and 95% CI) "
                    "and each treatment − baseline anytime-valid interval over replicates"),
    Binding("m", "next_metric", "Metric", tooltip="Chart the next metric"),
    Binding("i", "toggle_replicate_curves", "Replicate curves",
            tooltip="Each replicate's own curve under the means (series metrics)"),
]
CHART_ACTIONS = frozenset({"toggle_charts", "next_metric", "toggle_replicate_curves"})
SYNC_INTERVAL = 0.25  # how often a shown charts view looks for new replicates


class RunCharts:
    """What RunScreen and AttachedRunScreen share for the charts view (``#charts``)."""

    charts_shown = False
    _charts_timer: Any = None
    _charts_seen = -1

    # -- keys -------------------------------------------------------------------------
    def action_toggle_charts(self) -> None:
        self.show_charts(not self.charts_shown)

    def show_charts(self, shown: bool = True) -> None:
        """The charts view in place of the output log (the replicate table stays beside it)."""
        self.charts_shown = shown
        pane = self.query_one("#charts", ChartsPane)
        pane.display = shown
        self.query_one("#output").display = not shown
        if shown:
            if self._charts_timer is None:
                self._charts_timer = self.set_interval(SYNC_INTERVAL, self._charts_sync)
            self._charts_sync()
            pane.rebuild()
            # A narrow screen stacks the panes and scrolls: bring the charts into view.
            self.call_after_refresh(pane.scroll_visible, animate=False, top=True)
        self.refresh_bindings()

    def action_next_metric(self) -> None:
        self.query_one("#charts", ChartsPane).next_metric()

    def action_toggle_replicate_curves(self) -> None:
        pane = self.query_one("#charts", ChartsPane)
        pane.toggle_replicates()
        self.notify(("showing" if pane.replicates else "hiding") + " each replicate's curve",
                    timeout=2)

    def charts_check(self, action: str) -> bool:
        """Whether a charts key applies now (the footer shows it only then)."""
        if action == "toggle_charts":
            return True
        if not self.charts_shown:
            return False
        if action == "toggle_replicate_curves":
            pair = self.query_one("#charts", ChartsPane).pair
            return pair is not None and pair.kind == "series"
        return True

    # -- what the charts show ---------------------------------------------------------
    def _charts_sync(self) -> None:
        if not self.charts_shown or not self.is_attached:
            return
        source = self._chart_source()
        if source is None:
            return
        pane = self.query_one("#charts", ChartsPane)
        pane.set_source(source)
        if source.result is None and len(self.finished) != self._charts_seen:
            self._charts_seen = len(self.finished)
            pane.poke()

    def _chart_source(self) -> ChartSource | None:
        result: Result | None = self.result
        hypotheses = list(getattr(self.experiment, "hypotheses", []) or [])
        if result is not None:
            return ChartSource(result.run_id, list(result.conditions), result=result,
                               hypotheses=list(result.declared_hypotheses) or hypotheses)
        started = self.started
        if started is None:
            return None
        return ChartSource(started.run_id, list(started.conditions),
                           store=getattr(self.experiment, "store", None), hypotheses=hypotheses,
                           metric_bounds=getattr(self.experiment, "metric_bounds", None),
                           trajectories=self._chart_trajectories)

    def _chart_trajectories(self, metric: str) -> dict[str, list[tuple[int, float, float, float]]]:
        """The live anytime feed's trajectories of ``metric`` (called from the build thread)."""
        with self._live_lock:
            live = self._live
            return live.anytime_stats.trajectories(metric) if live is not None else {}

    def show_series(self, result: Result) -> None:
        """The replicate table's series metrics as sparklines (a stored or ended run)."""
        series = ChartFeed.of_result(result).series()
        if series:
            self.query_one("#replicates", ReplicateTable).set_series(series)

    # By name, not @on: Textual collects @on handlers only from DOMNode classes, not mixins.
    def on_charts_pane_built(self, message: ChartsPane.Built) -> None:
        if message.series:
            self.query_one("#replicates", ReplicateTable).set_series(message.series)
        self.refresh_bindings()
