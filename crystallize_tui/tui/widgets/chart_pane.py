"""The run screen's charts view: a metric's chart and the anytime difference chart, live or stored.

Building a chart (reading new replicates from the store, means and bands, drawing the
braille canvas, colouring it) happens in a worker thread; the UI thread only puts the
finished Text on screen. Live, a build starts at most every BUILD_INTERVAL seconds and only
while the view is shown, and at most BUDGET of the time (a slow build waits longer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from ...charts import data
from ...charts.canvas import Drawing
from ...core.result import Result
from .chart import ChartView, drawn
from .chart_feed import ChartFeed, ChartPair, Trajectories

BUILD_INTERVAL = 0.5  # live: the charts are rebuilt at most this often
BUDGET = 0.1  # share of the time the builds may take while a run goes
COMMIT_LAG_S = 5.0  # a replicate may be committed this long after it finished: read again
# Below this many rows the pane shows the metric's chart alone: two charts of 8 rows of
# plot each (plus title, axis and legend lines) do not fit, and two unreadable charts help
# nobody. A taller window brings the anytime difference chart back.
TWO_CHARTS_ROWS = 26


@dataclass
class ChartSource:
    """Where the replicates come from: a Result (stored, or a run that ended), or a run
    read live from ``store``; ``trajectories`` are the live anytime feed's, when there is one."""

    run_id: str
    conditions: list[str]
    result: Result | None = None
    store: Any = None
    hypotheses: list[Any] = field(default_factory=list)
    metric_bounds: Any = None  # the experiment's (core/hypothesis.check_metric_bounds)
    trajectories: Callable[[str], Trajectories] | None = None

    @property
    def key(self) -> tuple[str, bool]:
        return self.run_id, self.result is not None


class ChartsPane(Vertical):
    """The charts of one run. ``m`` (next metric) and ``i`` (replicate curves) are the
    screen's keys; they call ``next_metric`` and ``toggle_replicates``."""

    # Hidden until the screen's key shows it (in place of the output log); in a narrow
    # screen the panes stack and scroll, so it takes a fixed height there.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    ChartsPane {
        display: none;
        width: 2fr;
        height: 1fr;
    }
    RunScreen.-narrow ChartsPane {
        width: 1fr;
        height: 46;  /* both charts (the screen scrolls): the anytime one below the metric's */
    }
    ChartsPane #charts-head {
        height: 1;
        padding: 0 1;
    }
    """

    @dataclass
    class Built(Message):
        """A build finished: the charts and their drawings, and the series metrics read."""

        pane: ChartsPane
        pair: ChartPair | None
        metrics: list[str]
        drawings: dict[str, tuple[Drawing, Text, tuple[int, int]]]
        series: dict[tuple[str, int], dict[str, list[float]]]
        replicates: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source: ChartSource | None = None
        self.metric: str | None = None  # None: the default (a series metric, else a hypothesis's)
        self.metrics: list[str] = []
        self.replicates = False  # individual replicate curves under the means
        self.replicate_count = 0  # replicates in the last build
        self.pair: ChartPair | None = None
        self.builds = 0
        self.build_cost = 0.0  # seconds the last build took in its thread
        self.show_cost = 0.0  # seconds putting it on screen took on the UI thread
        self._feed: ChartFeed | None = None
        self._feed_key: tuple[str, bool] | None = None
        self._since: float | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._building = False
        self._next_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="charts-head")
        yield ChartView("waiting for the first replicates…", False, id="chart-main")
        yield ChartView("", False, id="chart-difference")

    def on_mount(self) -> None:
        self.border_title = "charts · g hides"
        self.set_interval(BUILD_INTERVAL / 2, self._tick)
        self._head()

    # -- what to show ---------------------------------------------------------------------
    def set_source(self, source: ChartSource) -> None:
        """Show this run's charts (a new source starts over; the same one is left as it is)."""
        if self.source is not None and self.source.key == source.key:
            return
        self.source = source
        self._dirty = True
        self._next_at = 0.0
        self._tick()

    def poke(self) -> None:
        """New replicates finished: build again when the pacing allows."""
        self._dirty = True

    def next_metric(self, step: int = 1) -> None:
        if not self.metrics:
            return
        current = self.metric if self.metric in self.metrics else self._default()
        i = self.metrics.index(current) if current in self.metrics else 0
        self.metric = self.metrics[(i + step) % len(self.metrics)]
        self.rebuild()

    def toggle_replicates(self) -> None:
        self.replicates = not self.replicates
        self.rebuild()

    def rebuild(self) -> None:
        """Build now (a key was pressed: no pacing)."""
        self._dirty = True
        self._next_at = 0.0
        self._tick()

    def _default(self) -> str | None:
        kinds = self._feed.kinds if self._feed is not None else {}
        series = [m for m, k in kinds.items() if k == data.SERIES]
        if series:
            return series[0]
        named = [h.metric for h in (self.source.hypotheses if self.source else [])]
        return next((m for m in named if m in kinds), next(iter(kinds), None))

    def on_resize(self) -> None:
        self._place_difference()
        self.rebuild()  # drawn again at the new size, in the thread like every build

    def room_for_two(self) -> bool:
        return self.content_size.height >= TWO_CHARTS_ROWS

    def _place_difference(self) -> None:
        has_difference = self.pair is None or self.pair.difference is not None
        view = self.query_one("#chart-difference", ChartView)
        shown = has_difference and self.room_for_two()
        if view.display != shown:
            view.display = shown
            # The main chart's height changes with it (the pane's does not): draw it again
            # once the new layout is known.
            self.call_after_refresh(self.rebuild)

    # -- building -------------------------------------------------------------------------
    def _tick(self) -> None:
        if not self._dirty and self.display and self.is_attached:
            # Laid out again since drawn (the difference chart hidden after a build that
            # measured the old layout): draw anew at the size there is now.
            self._dirty = any(view.stale() for view in self.query(ChartView))
        if (not self._dirty or self._building or self.source is None or not self.display
                or time.monotonic() < self._next_at or not self.is_attached):
            return
        views = {name: self.query_one(f"#chart-{name}", ChartView)
                 for name in ("main", "difference")}
        sizes = {name: (v.content_size.width, v.content_size.height) for name, v in views.items()}
        if not all(sizes["main"]):  # just shown, not laid out yet: the next tick draws it
            return
        dark = views["main"].dark
        self._dirty = False
        self._building = True
        self._build(self.source, self.metric, self.replicates, sizes, dark)

    # A fixed description: the default repr()s the arguments (the source) on the UI thread.
    @work(thread=True, exclusive=True, group="charts", exit_on_error=False, description="charts")
    def _build(self, source: ChartSource, metric: str | None, replicates: bool,
               sizes: dict[str, tuple[int, int]], dark: bool) -> None:
        began = time.perf_counter()
        try:
            with self._lock:  # an older build still running finishes first
                feed = self._read(source)
                metrics = feed.metrics
                chosen = metric if metric in metrics else self._default()
                pair = feed.charts(chosen, replicates, source.trajectories) if chosen else None
                series = feed.new_series()
                count = len(feed.records)
            drawings = {}
            if pair is not None:
                for name, chart in (("main", pair.main), ("difference", pair.difference)):
                    width, height = sizes[name]
                    if chart is not None and width > 0 and height > 0:
                        drawing, text = drawn(chart, width, height, dark)
                        drawings[name] = (drawing, text, (width, height))
        finally:
            self.build_cost = time.perf_counter() - began
            self._next_at = time.monotonic() + max(BUILD_INTERVAL, self.build_cost / BUDGET)
            self._building = False
        self.post_message(self.Built(self, pair, metrics, drawings, series, count))

    def _read(self, source: ChartSource) -> ChartFeed:
        """The feed with every replicate of ``source`` so far (live: only new rows are read)."""
        if self._feed is None or self._feed_key != source.key:
            if source.result is not None:
                self._feed = ChartFeed.of_result(source.result)
            else:
                self._feed = ChartFeed(source.conditions, source.hypotheses, source.metric_bounds)
            self._feed_key = source.key
            self._since = None
        if source.result is None and source.store is not None:
            read_at = time.time()
            self._feed.add(source.store.replicates(source.run_id, finished_since=self._since))
            self._since = read_at - COMMIT_LAG_S
        return self._feed

    def on_charts_pane_built(self, message: Built) -> None:
        if message.pane is not self:
            return
        began = time.perf_counter()
        self.builds += 1
        self.metrics = message.metrics
        self.replicate_count = message.replicates
        self.pair = message.pair
        if message.pair is not None:
            self.metric = message.pair.metric
        main = self.query_one("#chart-main", ChartView)
        difference = self.query_one("#chart-difference", ChartView)
        if message.pair is None:
            main.show(None, placeholder="no numeric metric recorded yet"
                      if message.replicates else "waiting for the first replicates…")
            difference.show(None)
        else:
            for view, chart, name in ((main, message.pair.main, "main"),
                                      (difference, message.pair.difference, "difference")):
                drawing, text, size = message.drawings.get(name, (None, None, None))
                view.show(chart, drawing, text, size,
                          placeholder="one condition: no difference to chart")
        self._place_difference()
        self._head()
        self.show_cost = time.perf_counter() - began

    def _head(self) -> None:
        head = Text()
        if self.pair is not None:
            head.append(self.pair.metric, style="bold")
            head.append(f" ({self.pair.kind}) ")
            position = (f"{self.metrics.index(self.pair.metric) + 1}/{len(self.metrics)}"
                        if self.pair.metric in self.metrics else "")
            head.append(f"{position} · m: next metric", style="dim")
            if self.pair.kind == data.SERIES:
                head.append(" · i: " + ("hide" if self.replicates else "show")
                            + " replicate curves", style="dim")
            if self.pair.difference is not None and not self.room_for_two():
                head.append(" · anytime chart: taller window",
                            style="dim")
        else:
            head.append("charts", style="bold")
        self.query_one("#charts-head", Static).update(head)
