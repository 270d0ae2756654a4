"""Debugging a replicate of a run reproduces it: the run's overrides, config and seed."""

from tui_support import (  # noqa: F401 - workspace is the fixture
    app_for,
    launch_to_end,
    open_launch,
    open_newest_stored_run,
    pick_row,
    stored,
    until,
    workspace,
)

from crystallize_tui.tui.screens.debug import DebugScreen


def stored_metrics(root, condition: str, replicate: int) -> dict:
    rows = stored(root, "SELECT name, value FROM metrics WHERE condition = "
                        f"'{condition}' AND replicate = {replicate} ORDER BY seq")
    return dict(rows)


async def debug_metrics(pilot, app) -> dict:
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, DebugScreen)
                and (app.screen.outcome is not None or app.screen.error is not None))
    assert app.screen.error is None, app.screen.error
    return dict(app.screen.outcome.metrics)


async def test_debug_of_a_run_with_overrides_gives_the_stored_replicates_metrics(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        dialog.query_one("#overrides").value = "p=0.55"
        dialog.query_one("#seed").value = "7"
        run = await launch_to_end(app, pilot, dialog)
        await pick_row(pilot, run, "bigger", 2)
        want = stored_metrics(workspace, "bigger", 2)
        assert set(want) == {"win", "score"}
        got = await debug_metrics(pilot, app)
        assert {k: v[-1] if isinstance(v, list) else v for k, v in got.items()} == want
        await pilot.press("escape")

        # The same run opened from history: config and seed come from the store.
        await pick_row(pilot, await open_newest_stored_run(app, pilot), "baseline", 3)
        got = await debug_metrics(pilot, app)
        assert {k: v[-1] if isinstance(v, list) else v for k, v in got.items()} == \
            stored_metrics(workspace, "baseline", 3)
        assert "run " in str(app.screen.query_one("#debug-status").content)
