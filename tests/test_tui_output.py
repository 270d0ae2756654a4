"""The output panel through the Pilot: a stored run's output reads as the live one did, an
experiment that prints nothing says so, and a failed replicate's error names it."""

import pytest
from textual.widgets import DataTable, Log, Static
from tui_support import app_for, open_newest_stored_run, run_to_end, stored, text_of, write

from crystallize_tui.tui.screens.run import RunScreen

CHATTY = '''
import sys

def play(config, ctx):
    for turn in range(config["turns"]):
        print(f"turn {turn} of {ctx.treatment}")
        ctx.emit("turn", n=turn, who="me")
    if config.get("broken"):
        print("about to fail", file=sys.stderr)
        raise ValueError("the board is on fire")
    ctx.metrics.add("score", ctx.rng.random())
'''

QUIET = '''
def play(config, ctx):
    ctx.metrics.add("score", ctx.rng.random())
'''


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "chatty", {"game.py": CHATTY, "experiment.yaml": (
        "pipeline: [game:play]\ndatasource: {turns: 2}\nreplicates: 2\n"
        "treatments:\n  broken: {broken: true}\n")})
    write(tmp_path / "experiments" / "long", {"game.py": CHATTY, "experiment.yaml": (
        "pipeline: [game:play]\ndatasource: {turns: 1500}\nreplicates: 1\n")})
    write(tmp_path / "experiments" / "quiet", {"game.py": QUIET, "experiment.yaml": (
        "pipeline: [game:play]\ndatasource: {}\nreplicates: 2\n")})
    return tmp_path


async def run_then_open_stored(app, pilot, name: str) -> tuple[list[str], RunScreen]:
    """Run ``name`` live; return the live panel's lines and the stored run's screen."""
    await run_to_end(app, pilot, name)
    await pilot.pause()
    live = list(app.screen.query_one("#output", Log).lines)
    await pilot.press("escape")
    return live, await open_newest_stored_run(app, pilot)


async def test_a_stored_runs_output_reads_as_the_live_one_did(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        live, screen = await run_then_open_stored(app, pilot, "chatty")
        assert "[baseline #0] ▸ turn n=0 who='me'" in live
        assert "[broken #1] ✗ failed: ValueError: the board is on fire" in live
        assert "[broken #1] ! about to fail" in live
        assert list(screen.query_one("#output", Log).lines) == live


async def test_a_stored_runs_output_is_not_cut_shorter_than_the_live_one(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        live, screen = await run_then_open_stored(app, pilot, "long")
        assert len(live) == 3000
        assert list(screen.query_one("#output", Log).lines) == live


async def test_an_experiment_that_prints_nothing_says_no_output(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        live, screen = await run_then_open_stored(app, pilot, "quiet")
        assert live == ["(no output)"]
        assert list(screen.query_one("#output", Log).lines) == ["(no output)"]


async def test_a_failed_replicates_error_names_its_condition_replicate_and_seed(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "chatty")
        table = app.screen.query_one("#replicates", DataTable)
        table.focus()
        row = next(i for i in range(table.row_count)
                   if "broken" in str(table.get_row_at(i)) and "'1'" in str(table.get_row_at(i)))
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ErrorScreen"
        [(seed,)] = stored(workspace, "SELECT seed FROM replicates WHERE condition = 'broken' "
                                      "AND replicate = 1")
        assert f"failed replicate: broken · replicate 1 · seed {seed}" in text_of(
            app.screen.query_one("#where", Static))
