"""Snapshot tests of the chart screens: a stored run's charts view, History's chart, two runs compared."""

from __future__ import annotations

from typing import Any

from test_tui_snapshots import SIZE, Workspace, loaded, workspace  # noqa: F401 - the fixture

from crystallize_tui.tui.screens.charts_history import ChartScreen
from crystallize_tui.tui.screenshots import experiment_named, settle, wait_until
from crystallize_tui.tui.widgets.chart import ChartView
from crystallize_tui.tui.widgets.chart_pane import ChartsPane


def test_run_charts(snap_compare: Any, workspace: Workspace) -> None:  # noqa: F811
    """A stored checkout run with g: converted per replicate with mean and CI, beside the
    anytime interval of one_page - baseline over replicates with zero marked."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await loaded(pilot)
        app.open_stored_run(experiment_named(app, "checkout"), "run-0001")
        await settle(pilot)
        await pilot.press("g")
        pane = app.screen.query_one("#charts", ChartsPane)
        main = pane.query_one("#chart-main", ChartView)
        # drawn, and at a size it fits (120x36 has room for the metric's chart alone)
        await wait_until(pilot, lambda: pane.pair is not None and main.drawing is not None
                         and not main.drawing.too_small, "the charts to be built")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_history_chart(snap_compare: Any, workspace: Workspace) -> None:  # noqa: F811
    """History's g: converted's baseline mean and CI in checkout's two runs, oldest first."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await loaded(pilot)
        app.action_open_history(experiment_named(app, "checkout"))
        await settle(pilot)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, ChartScreen)
                         and app.screen.query_one("#chart", ChartView).drawing is not None,
                         "the history chart")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_compare_runs_chart(snap_compare: Any, workspace: Workspace) -> None:  # noqa: F811
    """The two-run comparison's g: each condition's replicates in run A, then run B."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await loaded(pilot)
        app.action_open_history(experiment_named(app, "checkout"))
        await settle(pilot)
        await pilot.press("down", "space", "up", "c")
        await settle(pilot)
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, ChartScreen)
                         and app.screen.query_one("#chart", ChartView).drawing is not None,
                         "the comparison chart")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)
