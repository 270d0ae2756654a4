"""Debugging a replicate of a run reproduces it: the run's overrides, config and seed."""

from test_tui import app_for, home_ready, select, stored, until, workspace  # noqa: F401
from textual.widgets import DataTable

from crystallize_tui.tui.screens.debug import DebugScreen
from crystallize_tui.tui.screens.dialogs import LaunchScreen
from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.run import RunScreen


def stored_metrics(root, condition: str, replicate: int) -> dict:
    rows = stored(root, "SELECT name, value FROM metrics WHERE condition = "
                        f"'{condition}' AND replicate = {replicate} ORDER BY seq")
    return dict(rows)


async def pick_row(pilot, screen, condition: str, replicate: int) -> None:
    table = screen.query_one("#replicates", DataTable)
    table.focus()
    row = next(i for i in range(table.row_count)
               if table.get_row_at(i)[0] == condition and str(table.get_row_at(i)[1]) == str(replicate))
    table.move_cursor(row=row)
    await pilot.pause()
    assert screen.query_one("#replicates").selected() == (condition, replicate)


async def debug_metrics(pilot, app) -> dict:
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, DebugScreen)
                and (app.screen.outcome is not None or app.screen.error is not None))
    assert app.screen.error is None, app.screen.error
    return dict(app.screen.outcome.metrics)


async def test_debug_of_a_run_with_overrides_gives_the_stored_replicates_metrics(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        await pilot.press("enter")
        assert isinstance(app.screen, LaunchScreen)
        app.screen.query_one("#overrides").value = "p=0.55"
        app.screen.query_one("#seed").value = "7"
        app.screen.query_one("#replicates").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.result is not None)
        run = app.screen
        await pick_row(pilot, run, "bigger", 2)
        want = stored_metrics(workspace, "bigger", 2)
        assert set(want) == {"win", "score"}
        got = await debug_metrics(pilot, app)
        assert {k: v[-1] if isinstance(v, list) else v for k, v in got.items()} == want
        await pilot.press("escape")

        # The same run opened from history: config and seed come from the store.
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.stored is not None)
        await pick_row(pilot, app.screen, "baseline", 3)
        got = await debug_metrics(pilot, app)
        assert {k: v[-1] if isinstance(v, list) else v for k, v in got.items()} == \
            stored_metrics(workspace, "baseline", 3)
        assert "run " in str(app.screen.query_one("#debug-status").content)
