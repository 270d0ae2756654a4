"""Resume, forced resume and "run again with the same options" from the run and history
screens; keys that do not apply are not offered."""

import json

from textual.widgets import DataTable, Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    GAME,
    app_for,
    cancel_after,
    home_ready,
    launch_to_end,
    on_home,
    open_launch,
    open_newest_stored_run,
    ran_to_end,
    run_to_end,
    select,
    start_run,
    stored,
    text_of,
    until,
    workspace,
    write,
)

from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.run import RunScreen

WATCHED = '''
pipeline: [game:play]
datasource: {p: 0.3, turns: 20, delay: 0.05}
replicates: 8
treatments:
  hot: {p: 0.9}
'''


def offered(screen) -> dict[str, str]:
    """What the footer shows: key -> description of each binding that applies."""
    return {key: b.binding.description for key, b in screen.active_bindings.items()}


async def test_a_refused_resume_says_why_keeps_the_statistics_and_can_be_forced(workspace):  # noqa: F811
    write(workspace / "experiments" / "watched", {"experiment.yaml": WATCHED, "game.py": GAME})
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "watched")
        assert offered(screen).get("c") == "Cancel" and "r" not in offered(screen)
        await cancel_after(pilot, screen, 4)
        assert offered(screen).get("r") == "Resume" and "c" not in offered(screen)
        stats_rows = screen.query_one("#stats", DataTable).row_count
        replicate_rows = screen.query_one("#replicates", DataTable).row_count
        assert stats_rows > 0 and replicate_rows >= 4

        # The step's code changes while the run is paused: resuming is refused.
        game = workspace / "experiments" / "watched" / "game.py"
        game.write_text(game.read_text().replace(
            "    for turn in", "    ctx.metrics.add('tweaked', 1)\n    for turn in"))
        before = app.discovery
        app.load_experiments()  # what the file watcher does when a file changes
        await until(pilot, lambda: app.discovery is not before)
        await pilot.press("r")
        await until(pilot, lambda: not screen.running)
        status = text_of(screen.query_one("#run-status", Static))
        assert "resume refused" in status and "changed" in status and "play" in status
        assert "F resumes anyway" in status and "force=True" not in status
        assert screen.query_one("#stats", DataTable).row_count == stats_rows  # not wiped
        assert screen.query_one("#replicates", DataTable).row_count == replicate_rows
        assert offered(screen).get("F") == "Resume anyway"
        assert offered(screen).get("r") == "Run again"

        await pilot.press("F")
        await until(pilot, lambda: screen.result is not None and not screen.running, timeout=40)
        assert screen.result.complete
    assert stored(workspace, "SELECT COUNT(*), MAX(resumes) FROM runs") == [(1, 1)]
    assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(16,)]
    # "the rest run with today's code": the replicates run after the change have its metric
    ran_after = stored(workspace, "SELECT COUNT(*) FROM metrics WHERE name = 'tweaked'")[0][0]
    assert 0 < ran_after <= 16 - replicate_rows


def runs_in_store(root):
    return stored(root, "SELECT run_id, replicates, base_seed, conditions, configs, status "
                        "FROM runs ORDER BY started_at")


async def test_run_again_from_a_stored_run_and_from_history_uses_the_same_options(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        dialog.query_one("#replicates").value = "5"
        dialog.query_one("#seed").value = "7"
        dialog.query_one("#overrides").value = "p=0.55 board.size=11"
        dialog.query_one("#treatments").deselect("bigger")
        await launch_to_end(app, pilot, dialog)
        stored_screen = await open_newest_stored_run(app, pilot)
        keys = offered(stored_screen)
        assert "c" not in keys and keys.get("r") == "Run again" and "F" not in keys
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen is not stored_screen
                    and app.screen.result is not None)
        assert app.screen.options.get("workers", 1) == 1  # serial, as the first run
    first, second = runs_in_store(workspace)
    assert first[1:5] == second[1:5]  # replicates, seed, conditions, configs
    assert (first[1], first[2], json.loads(first[3])) == (5, 7, ["baseline", "biased"])
    assert all(c["p"] == 0.55 and c["board"]["size"] == 11 for c in json.loads(first[4]).values())

    # A later session (nothing remembered): history's r works the options out from the store.
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "coin")
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
        assert offered(app.screen).get("r") == "Run again"
        await pilot.press("r")
        await until(pilot, lambda: ran_to_end(app))
    third = runs_in_store(workspace)[2]
    assert third[1:5] == first[1:5] and third[5] == "completed"


async def test_help_lists_only_the_keys_that_apply(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "coin")
        await pilot.press("question_mark")
        shown = " ".join(f"{k} {d}" for k, d in app.screen.bindings)
        assert "Run again" in shown and "Cancel" not in shown and "Resume" not in shown


async def test_history_offers_compare_once_a_run_is_marked(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "coin")
        await pilot.press("h")
        await pilot.pause()
        assert set(offered(app.screen)) & {"space", "c", "r"} == set()  # no runs yet
        await pilot.press("escape")
        for _ in range(2):
            await pilot.press("r")
            await until(pilot, lambda: ran_to_end(app))
            await pilot.press("escape")
        await pilot.press("h")
        await pilot.pause()
        assert "c" not in offered(app.screen) and offered(app.screen).get("r") == "Run again"
        await pilot.press("space")
        assert offered(app.screen).get("c") == "Compare with marked"
