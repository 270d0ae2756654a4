"""Runs on worker processes launched from the terminal UI (the Pilot, real workers, real store)."""

import shutil
from pathlib import Path

from textual.widgets import DataTable, Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    app_for,
    open_launch,
    start_run,
    stored,
    text_of,
    until,
    workspace,
)

from crystallize_tui.tui.screens.run import RunScreen

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


async def test_the_bundled_parallel_example_runs_from_the_ui(tmp_path):
    # The README's YAML example is experiments/social_deception: plugins: parallel, 2 workers.
    shutil.copytree(EXAMPLES / "social_deception", tmp_path / "experiments" / "social_deception")
    assert "parallel: {max_workers: 2}" in (
        tmp_path / "experiments" / "social_deception" / "experiment.yaml").read_text()
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "social_deception")
        await until(pilot, lambda: screen.result is not None or not screen.running, timeout=60)
        status = text_of(screen.query_one("#run-status", Static))
        assert "completed" in status, status
        assert screen.query_one("#replicates", DataTable).row_count == 15
    assert stored(tmp_path, "SELECT status FROM runs") == [("completed",)]
    assert stored(tmp_path, "SELECT COUNT(*) FROM replicates") == [(15,)]


async def test_launch_dialog_with_two_workers_runs_on_processes(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        dialog.query_one("#workers").value = "2"
        dialog.query_one("#replicates").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and (app.screen.result is not None or not app.screen.running), timeout=60)
        screen = app.screen
        status = text_of(screen.query_one("#run-status", Static))
        assert "completed" in status, status
        assert screen.query_one("#replicates", DataTable).row_count == 12
    assert stored(workspace, "SELECT status FROM runs") == [("completed",)]
    assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(12,)]
