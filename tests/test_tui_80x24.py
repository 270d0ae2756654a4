"""The TUI at 80x24: dialogs taller than the terminal scroll their body and keep their buttons
in sight (help on a run screen lost its Close button; the launch dialog its Run button); the
History table keeps run, when, status, done and the verdict in sight, the rest on a line."""

from textual.widgets import Button, DataTable
from tui_support import (
    COIN,
    GAME,
    app_for,
    home_ready,
    open_launch,
    run_to_end,
    until,
    words_of,
    write,
)

from crystallize_tui.core.folders import load_experiment
from crystallize_tui.tui.screens.dialogs import ConfirmScreen, HelpScreen
from crystallize_tui.tui.screens.figures import FiguresScreen
from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.upstream import question

STEP = '''
def play(config, ctx):
    ctx.metrics.add("score", ctx.rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:play]
datasource: {mu: 0.0}
replicates: 3
treatments:
  better: {mu: 1.0}
'''


def in_sight(app, widget) -> bool:
    """The widget is drawn whole inside the screen and inside its dialog."""
    dialog = widget.query_ancestor(".dialog")
    return (app.screen.region.contains_region(widget.region) and widget.region.height > 0
            and dialog.content_region.contains_region(widget.region))


async def test_help_and_launch_keep_their_buttons_in_sight_at_80x24(tmp_path):
    write(tmp_path / "experiments" / "game", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_to_end(app, pilot, "game")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        close = app.screen.query_one("#close", Button)
        assert in_sight(app, close), (close.region, app.screen.region)
        body = app.screen.query_one(".dialog-body")
        assert body.max_scroll_y > 0  # the run screen's keys do not fit: the list scrolls
        await pilot.press("pagedown")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y)
        assert in_sight(app, close)
        await pilot.press("enter")  # Close keeps the focus
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        dialog = await open_launch(app, pilot, "game")
        for button in dialog.query(Button):
            assert in_sight(app, button), (button.id, button.region)
        await pilot.press("escape")
        # The offer to run a dozen stale producers first; every figure of a wide row.
        stale = [(f"producer_{i}", "no completed run") for i in range(12)]
        for tall in (ConfirmScreen(question("consumer", stale)),
                     FiguresScreen("a row", [(f"figure {i}", str(i)) for i in range(30)])):
            app.push_screen(tall)
            await pilot.pause()
            for button in tall.query(Button):
                assert in_sight(app, button), (type(tall).__name__, button.id, button.region)
            tall.dismiss(False if isinstance(tall, ConfirmScreen) else None)
            await pilot.pause()


def labels(table: DataTable) -> list[str]:
    return [column.label.plain for column in table.ordered_columns]


def fits(table: DataTable) -> bool:
    """Every column is in sight without scrolling sideways."""
    used = sum(column.get_render_width(table) for column in table.ordered_columns)
    return used <= table.scrollable_content_region.width


async def test_history_keeps_status_and_verdict_in_sight_at_80x24(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    coin = load_experiment(tmp_path / "experiments" / "coin")
    coin.store = tmp_path / ".crystallize" / "crystallize.db"
    ran = coin.run(echo=False)
    held = sum(v.verdict == "supported" for v in ran.hypotheses)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        home = await home_ready(app, pilot)
        app.action_open_history(next(f.experiment for f in home.discovery.experiments
                                     if f.name == "coin"))
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.query("#runs"))
        table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count and str(table.get_row_at(0)[-1]) != "…")
        await pilot.pause()
        assert labels(table) == [" ", "run", "when", "status", "done", "verdict"]
        assert fits(table) and app.screen.region.contains_region(table.region)
        run, _, status, done, verdict = (str(c) for c in table.get_row_at(0)[1:])
        assert ran.run_id.endswith("-" + run) and status == "completed" and done == "12/12"
        assert verdict == f"{held} of 2 supported"
        detail = app.screen.query_one("#history-detail")
        assert app.screen.region.contains_region(detail.region)
        assert words_of(detail) == (f"run {ran.run_id} · seed 1 · took {_took(table, ran)} · "
                                    f"12 ok, 0 failed of 12 · {held} of 2 supported")
        # With room, every column as before (and the verdict); no line under the table.
        await pilot.resize_terminal(160, 48)
        await until(pilot, lambda: "seed" in labels(table))
        assert labels(table) == ["mark", "run id", "started", "status", "ok", "failed", "of",
                                 "seed", "took", "verdict"]
        assert fits(table) and not detail.display


def _took(table: DataTable, ran) -> str:
    from crystallize_tui.tui.widgets.tables import clock

    record = table.screen.records[ran.run_id]
    return clock(record.finished_at - record.started_at)
