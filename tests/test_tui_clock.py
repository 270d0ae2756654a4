"""Elapsed and ETA on the run screen: through a resume, after a crash, live against stored."""

import asyncio

from textual.widgets import Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    SLOW,
    app_for,
    cancel_after,
    home_ready,
    on_home,
    run_to_end,
    select,
    start_run,
    text_of,
    until,
    workspace,
    write,
)

from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.run import RunScreen
from crystallize_tui.tui.widgets.tables import clock


def cells(screen, condition: str = "baseline") -> tuple[str, str]:
    progress = screen.query_one("#progress")
    return (str(progress.get_cell(condition, "elapsed")), str(progress.get_cell(condition, "eta")))


def seconds(shown: str) -> int:
    minutes, secs = shown.split(":")
    return int(minutes) * 60 + int(secs)


async def test_a_resumed_run_counts_elapsed_and_eta_while_it_goes(workspace):  # noqa: F811
    (workspace / "experiments" / "games" / "slow" / "experiment.yaml").write_text(
        SLOW.replace("replicates: 30", "replicates: 8"))  # 1 s per replicate, 16 in all
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        await cancel_after(pilot, screen, 2)
        await pilot.press("r")  # resume on the same screen
        await until(pilot, lambda: screen.running and screen.started is not None
                    and screen.started.done_before)
        before = screen.query_one("#progress").finished_count
        # While the resumed run goes: the clock counts and, once a replicate of this attempt
        # finished, the ETA is a time.
        await until(pilot, lambda: seconds(cells(screen)[0]) >= 1
                    and screen.query_one("#progress").finished_count > before + 1, timeout=30)
        elapsed, eta = cells(screen)
        assert screen.running and eta not in ("—", "✓"), (elapsed, eta)
        assert seconds(eta) > 0
        await pilot.press("c")
        await until(pilot, lambda: not screen.running)


EXITS = """
import os

def play(config, ctx):
    ctx.metrics.add("win", 1)
    if ctx.replicate == 2:
        os._exit(3)  # the run's process ends, not one replicate
"""


async def test_the_clock_stops_when_the_run_crashes(workspace):  # noqa: F811
    write(workspace / "experiments" / "exits", {
        "experiment.yaml": "pipeline: [step:play]\nreplicates: 4\n", "step.py": EXITS})
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "exits")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and not app.screen.running
                    and "run process" in text_of(app.screen.query_one("#run-status", Static)))
        screen = app.screen
        assert "exited with code 3" in text_of(screen.query_one("#run-status", Static))
        first = cells(screen)
        await asyncio.sleep(1.2)  # long enough for a running clock to move on a second
        await pilot.pause()
        assert cells(screen) == first
        assert first[1] == "—"


async def test_a_stored_run_shows_the_elapsed_the_live_one_ended_with(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "coin")
        live = app.screen
        live_elapsed = cells(live)[0]
        assert f"completed in {live_elapsed}" in text_of(live.query_one("#run-status"))
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
        runs = app.screen.query_one("#runs")
        took = str(runs.get_cell(live.result.run_id, "took"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.stored is not None)
        stored_screen = app.screen
        assert cells(stored_screen)[0] == live_elapsed == took
        assert f"in {clock(stored_screen.stored.duration)}" in text_of(
            stored_screen.query_one("#run-status"))
