"""The run screen's charts view (g) on the bundled examples, live and stored: what is drawn."""

import shutil
from pathlib import Path

from tui_support import app_for, home_ready, open_newest_stored_run, until

from crystallize_tui.charts.canvas import REFERENCE
from crystallize_tui.render.palette import condition_colour
from crystallize_tui.tui.screenshots import experiment_named, start_run
from crystallize_tui.tui.widgets.chart import ChartView
from crystallize_tui.tui.widgets.chart_pane import ChartsPane
from crystallize_tui.tui.widgets.tables import RateSparkline, ReplicateTable

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


def bundled(tmp_path: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(EXAMPLES / name, tmp_path / "experiments" / name)
    return tmp_path


def record(root: Path, name: str, **options) -> str:
    """A run of ``name`` recorded in the workspace's store before the app starts; its id."""
    from crystallize_tui.core.folders import load_experiment
    from crystallize_tui.core.store import Store

    store = Store(root / ".crystallize" / "crystallize.db")
    try:
        experiment = load_experiment(root / "experiments" / name)
        experiment.store = store
        return experiment.run(echo=False, **options).run_id
    finally:
        store.close()


def drawn_conditions(view: ChartView) -> set[int]:
    """The condition indices whose dots are on the canvas."""
    return {c for row in view.drawing.colours for c in row if c >= 0}


def zero_line_drawn(view: ChartView) -> bool:
    return any(c == REFERENCE for row in view.drawing.colours for c in row)


async def test_stored_regularisation_loss_curves(tmp_path):
    """A stored ml_regularisation run: loss (a series) as a mean curve per condition with
    its band; i adds each replicate's curve; the difference chart marks zero; the replicate
    table shows the loss of each replicate as a sparkline."""
    root = bundled(tmp_path, "ml_regularisation")
    record(root, "ml_regularisation", replicates=4)
    app = app_for(root)
    async with app.run_test(size=(160, 48)) as pilot:
        await home_ready(app, pilot)
        stored = await open_newest_stored_run(app, pilot)
        palette = {c.title for c in app.get_system_commands(stored)}
        assert "Charts" in palette and "Metric" not in palette  # m applies once charts show
        await pilot.press("g")
        pane = stored.query_one("#charts", ChartsPane)
        await until(pilot, lambda: pane.pair is not None)
        assert pane.display and not stored.query_one("#output").display
        assert {"Metric", "Replicate curves"} <= {c.title for c in app.get_system_commands(stored)}
        pair = pane.pair
        assert (pair.metric, pair.kind) == ("loss", "series")
        means = [line for line in pair.main.lines if not line.faint]
        assert [line.label for line in means] == ["baseline", "strong_l2", "high_lr"]
        assert all(len(line.xs) == 60 and line.low is not None for line in means)
        main = stored.query_one("#chart-main", ChartView)
        assert drawn_conditions(main) == {0, 1, 2}
        # The progress table marks each condition in the colour of its curve.
        progress = stored.query_one("#progress")
        for line in means:
            mark = progress.get_cell(line.label, "condition").spans[0].style
            assert mark == condition_colour(line.condition)
        assert zero_line_drawn(stored.query_one("#chart-difference", ChartView))

        await pilot.press("i")
        await until(pilot, lambda: any(line.faint for line in pane.pair.main.lines))
        assert sum(line.faint for line in pane.pair.main.lines) == 3 * 4

        table = stored.query_one("#replicates", ReplicateTable)
        cell = table.get_cell("strong_l2:0", "m:loss")
        assert len(table.series["strong_l2:0"]["loss"]) == 60
        assert any(ch in cell.plain for ch in "▁▂▃▄▅▆▇█")


async def test_live_social_game_win_rates(tmp_path):
    """A live social_deception run (slowed down): g while it runs shows the win rate as
    one point per finished replicate in each condition, and each treatment's anytime
    difference over replicates with the zero line; once it is cancelled, one point per
    replicate it kept; m moves to the next metric."""
    root = bundled(tmp_path, "social_deception")
    app = app_for(root)
    async with app.run_test(size=(160, 48)) as pilot:
        await home_ready(app, pilot)
        screen = start_run(app, experiment_named(app, "social_deception"),
                           {"replicates": 100, "overrides": {"turn_delay": 0.05}})
        await until(pilot, lambda: screen.started is not None)
        await pilot.press("g")
        pane = screen.query_one("#charts", ChartsPane)
        await until(pilot, lambda: pane.pair is not None and pane.replicate_count >= 3)
        assert screen.running, "the run ended before the charts were seen live"
        pair = pane.pair
        assert (pair.metric, pair.kind) == ("win", "scalar")
        points = {p.label: len(p.ys) for p in pair.main.points}
        assert set(points) == {"baseline", "dolphin_spoilers", "gemma_prey"}
        assert sum(points.values()) <= pane.replicate_count
        assert [line.label for line in pair.difference.lines] == ["dolphin_spoilers", "gemma_prey"]
        assert zero_line_drawn(screen.query_one("#chart-difference", ChartView))
        rate = screen.query_one("#rate", RateSparkline)  # sampled once a second
        await until(pilot, lambda: rate.rates and rate.display)
        assert "replicates/s" in str(rate.render())

        await pilot.press("c")  # cancelled: the charts then show the run's Result
        await until(pilot, lambda: screen.result is not None)
        done = {c: sum(1 for r in screen.result.replicate_results if r.treatment == c and r.ok)
                for c in screen.result.conditions}
        await until(pilot, lambda: {p.label: len(p.ys) for p in pane.pair.main.points} == done)
        await pilot.press("m")
        await until(pilot, lambda: pane.pair.metric == "rounds")


async def test_history_chart_and_compare_chart(tmp_path):
    """History's g: win's mean and interval in each of two stored runs, oldest first; the
    two-run comparison's g: each condition's points for run A then run B."""
    from crystallize_tui.tui.screens.charts_history import ChartScreen
    from crystallize_tui.tui.screens.history import HistoryScreen

    root = bundled(tmp_path, "social_deception")
    for seed in (1, 2):
        record(root, "social_deception", replicates=3, seed=seed)
    app = app_for(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await home_ready(app, pilot)
        app.action_open_history(experiment_named(app, "social_deception"))
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        history = app.screen
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ChartScreen)
                    and app.screen.query_one("#chart", ChartView).chart is not None)
        chart = app.screen.query_one("#chart", ChartView).chart
        assert chart.kind == "history" and [t for _, t in chart.x_ticks] == ["1", "2"]
        assert len(chart.intervals) == 2
        await pilot.press("n")  # the next condition, in its own colour
        view = app.screen.query_one("#chart", ChartView)
        await until(pilot, lambda: view.chart is not chart and view.drawing is not None)
        assert {iv.condition for iv in view.chart.intervals} == {1}
        assert drawn_conditions(view) == {1}
        await pilot.press("escape")

        history.marked = list(history.records)[1]  # the older run is A
        await pilot.press("c")
        await until(pilot, lambda: app.screen.__class__.__name__ == "CompareRunsScreen")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ChartScreen))
        view = app.screen.query_one("#chart", ChartView)
        await until(pilot, lambda: view.drawing is not None)
        assert [t for _, t in view.chart.x_ticks][:2] == ["baseline A", "baseline B"]
        assert [len(p.ys) for p in view.chart.points] == [3] * 6
        assert drawn_conditions(view) == {0, 1, 2}


async def test_attached_run_regularisation_curves(tmp_path):
    """A run of ml_regularisation started by `crystallize run --detach`, attached: g shows
    the loss curve of every condition while the run goes, over the replicates committed so
    far; the replicate table shows each replicate's loss as a sparkline."""
    from cli_support import cli

    from crystallize_tui.tui.screens.attached import AttachedRunScreen

    root = bundled(tmp_path, "ml_regularisation")
    started = cli(root, "run", "ml_regularisation", "--detach", "--replicates", "2000")
    run_id = started.stdout.strip().splitlines()[0]
    app = app_for(root)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await home_ready(app, pilot)
            screen = AttachedRunScreen(experiment_named(app, "ml_regularisation"), run_id)
            app.push_screen(screen)
            await until(pilot, lambda: screen.started is not None)
            await pilot.press("g")
            pane = screen.query_one("#charts", ChartsPane)
            await until(pilot, lambda: pane.pair is not None and pane.replicate_count >= 6)
            assert screen.running, "the run ended before the charts were seen live"
            means = [line for line in pane.pair.main.lines if not line.faint]
            assert [line.label for line in means] == ["baseline", "strong_l2", "high_lr"]
            assert drawn_conditions(screen.query_one("#chart-main", ChartView)) == {0, 1, 2}
            table = screen.query_one("#replicates", ReplicateTable)
            await until(pilot, lambda: any(
                "▁" in str(table.get_cell(key, "m:loss")) for key in table.rows_by_key))
            # Every row has its figures: the tail never reads a replicate before its metrics.
            blank = [key for key in table.rows_by_key if not str(table.get_cell(key, "m:accuracy"))]
            assert not blank, f"rows without their metrics: {blank[:5]}"
    finally:
        cli(root, "cancel", run_id)
