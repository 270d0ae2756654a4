"""The TUI driven by the Pilot against real experiments in tmp_path: every screen, by its keys."""

from textual.widgets import DataTable, Log, Static, Tree
from tui_support import (
    COIN,
    GAME,
    SLOW,
    app_for,
    cancel_after,
    home_ready,
    launch_to_end,
    on_home,
    open_launch,
    ran_to_end,
    run_to_end,
    select,
    start_run,
    stored,
    text_of,
    until,
    workspace,  # noqa: F401 - the fixture
    write,
)

from crystallize_tui.tui.screens.debug import DebugScreen
from crystallize_tui.tui.screens.dialogs import HelpScreen, QuitScreen
from crystallize_tui.tui.screens.diff import DiffScreen
from crystallize_tui.tui.screens.history import CompareRunsScreen, HistoryScreen
from crystallize_tui.tui.screens.home import HomeScreen
from crystallize_tui.tui.screens.run import RunScreen


async def test_home_lists_experiments_by_folder_and_load_errors(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        tree = home.query_one("#experiments", Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert labels[0].startswith("coin") and "never run" in labels[0]
        assert labels[1] == "games" and str(tree.root.children[1].children[0].label).startswith("slow")
        assert labels[2].startswith("failed to load (1)")
        await select(pilot, home, "coin")
        details = text_of(home.query_one("#details", Static))
        assert "a biased coin game" in details
        assert "board.size: 9 -> 13" in details and "p: 0.3 -> 0.8" in details
        assert "win greater than baseline" in details
        error_node = tree.root.children[2].children[0]
        tree.move_cursor(error_node)
        await pilot.pause()
        details = text_of(home.query_one("#details", Static))
        assert "failed to load" in details and "pipline" in details and "did you mean" in details


async def test_launch_with_overrides_runs_and_shows_results_and_statistics(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        dialog.query_one("#replicates").value = "6"
        dialog.query_one("#treatments").deselect("bigger")
        screen = await launch_to_end(app, pilot, dialog)
        assert screen.query_one("#replicates", DataTable).row_count == 12  # baseline + biased
        stats = screen.query_one("#stats", DataTable)
        assert stats.row_count == 2  # win and score, biased vs baseline
        assert "McNemar exact" in str(stats.get_row_at(0))
        assert "hypothesis: win greater in biased" in text_of(screen.query_one("#verdicts", Static))
        assert "completed" in text_of(screen.query_one("#run-status", Static))
        assert stored(workspace, "SELECT status, replicates FROM runs") == [("completed", 6)]
        assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(12,)]


async def test_live_output_and_progress_arrive_while_the_run_goes_then_cancel_keeps_them(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        output = screen.query_one("#output", Log)
        await until(pilot, lambda: output.line_count >= 10)
        assert screen.running and screen.result is None  # lines arrived mid-run
        assert any("▸ turn n=" in line for line in output.lines)
        assert any(line.startswith("[baseline #0] turn 0 of baseline #0") for line in output.lines)
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 2)
        await pilot.press("f")  # filter: baseline only
        assert output.filter == "baseline" and all("[baseline" in line for line in output.lines)
        await pilot.press("c")
        # at once "cancelling…", then "cancelled" as soon as the steps reach a cancellation point
        assert "cancel" in text_of(screen.query_one("#run-status", Static))
        await until(pilot, lambda: screen.result is not None)
        assert screen.result.cancelled
        kept = len(screen.result.replicate_results)
        assert 2 <= kept < 60
        assert stored(workspace, "SELECT status FROM runs") == [("cancelled",)]
        assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(kept,)]
        assert "r resumes" in text_of(screen.query_one("#run-status", Static))


async def test_failed_replicates_are_marked_and_their_error_opens(workspace):  # noqa: F811
    (workspace / "experiments" / "games" / "slow" / "experiment.yaml").write_text(
        SLOW.replace("turns: 20, delay: 0.05", "turns: 1, delay: 0").replace("replicates: 30", "replicates: 2"))
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "slow")
        table = app.screen.query_one("#replicates", DataTable)
        table.focus()
        failed_row = next(i for i in range(table.row_count) if "failed" in str(table.get_row_at(i)))
        table.move_cursor(row=failed_row)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ErrorScreen"
        assert "ValueError: the board is on fire" in app.screen.error
        assert 'game.py", line 10, in play' in app.screen.traceback


async def test_resume_after_cancel_completes_the_run(workspace):  # noqa: F811
    (workspace / "experiments" / "games" / "slow" / "experiment.yaml").write_text(
        SLOW.replace("delay: 0.05", "delay: 0.01").replace("replicates: 30", "replicates: 8"))
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        await cancel_after(pilot, screen, 2)
        await pilot.press("r")
        await until(pilot, lambda: screen.result is not None and not screen.running)
        assert screen.result.complete
        assert stored(workspace, "SELECT COUNT(*) FROM runs") == [(1,)]
        assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(16,)]


async def test_debug_a_failing_treatment_shows_the_users_traceback(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "slow")
        await pilot.press("d")
        assert type(app.screen).__name__ == "PickConditionScreen"
        await pilot.press("down", "enter")  # baseline, broken: pick broken
        await until(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.error is not None)
        screen = app.screen
        assert isinstance(screen.error, ValueError)
        log = screen.query_one("#debug-log", Log)
        assert any("turn 0 of broken #0" in line for line in log.lines)
        assert any("step play" in line for line in log.lines)
        text = text_of(screen.query_one("#traceback", Static))
        assert "game.py" in text and "the board is on fire" in text
        assert "crystallize_tui" not in text  # the user's frames, not the engine's
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


async def test_history_opens_a_stored_run_and_compares_two(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "coin")
        for _ in range(2):
            await pilot.press("r")
            await until(pilot, lambda: ran_to_end(app))
            live = app.screen.query_one("#stats", DataTable)
            live_stats = [[str(c) for c in live.get_row_at(i)] for i in range(live.row_count)]
            final = app.screen.result
            await pilot.press("escape")
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count == 2
        runs.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        stored_screen = app.screen
        assert stored_screen.result.run_id == final.run_id  # newest first
        assert stored_screen.query_one("#replicates", DataTable).row_count == 12
        assert stored_screen.query_one("#stats", DataTable).row_count == 4
        table = stored_screen.query_one("#stats", DataTable)
        assert [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)] == live_stats
        await pilot.press("escape")
        await pilot.press("space", "down", "c")
        assert isinstance(app.screen, CompareRunsScreen)
        table = app.screen.query_one("#compare", DataTable)
        assert table.row_count == 6  # 3 conditions x 2 metrics, same seed: paired
        assert "identical" in str(table.get_row_at(0)) or "0 [" in str(table.get_row_at(0))


async def test_diff_screen_shows_only_what_differs(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "coin")
        await pilot.press("D")
        assert isinstance(app.screen, DiffScreen)
        text = text_of(app.screen.query_one("#diff", Static))
        assert "--- baseline" in text and "+++ biased" in text
        assert "- p: 0.3" in text and "+ p: 0.8" in text and "board" not in text
        await pilot.press("s")
        await pilot.pause()
        assert "--- biased" in text_of(app.screen.query_one("#diff", Static))


async def test_the_list_reloads_when_files_change_keeping_the_selection(workspace):  # noqa: F811
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "slow")
        write(workspace / "experiments" / "fresh", {"experiment.yaml": COIN.replace(
            "a biased coin game", "a new one"), "game.py": GAME})

        def names():
            tree = home.query_one("#experiments", Tree)
            return [str(n.label) for n in tree.root.children]

        await until(pilot, lambda: any(label.startswith("fresh") for label in names()))
        assert home.selected_key() == ("experiment", "slow")
        (workspace / "experiments" / "typo" / "experiment.yaml").write_text(
            "pipeline: [game:play]\ndatasource: {p: 0.5}\n")
        (workspace / "experiments" / "typo" / "game.py").write_text(GAME)
        await until(pilot, lambda: not any(label.startswith("failed") for label in names()))


async def test_quit_asks_first_while_a_run_is_live(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "slow")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.running)
        run_screen = app.screen
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("s")  # stay
        assert app.screen is run_screen
        await pilot.press("q")
        await pilot.press("c")  # cancel the run, then quit
        await until(pilot, lambda: not run_screen.running, timeout=30)
        assert run_screen.result.cancelled


async def test_help_and_command_palette_list_the_actions(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen.query_one(Static))
        for key in ("enter", "Launch", "Run", "Debug", "History", "Diff", "Quit", "ctrl+p"):
            assert key in text
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(home)]
        for title in ("Launch…", "Run", "Debug", "History", "Diff", "Help"):
            assert title in titles


async def test_a_plugin_failure_is_a_message_not_a_crash(workspace):  # noqa: F811
    write(workspace / "experiments" / "gpu", {
        "experiment.yaml": "pipeline: [game:play]\ndatasource: {p: 0.5}\nplugins:\n"
                           "  artifacts: {root_dir: /proc/forbidden}\n",
        "game.py": GAME,
    })
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "gpu")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and not app.screen.running
                    and "stopped" in text_of(app.screen.query_one("#run-status", Static)))
        status = text_of(app.screen.query_one("#run-status", Static))
        assert "PluginError" in status and "ArtifactPlugin" in status
        assert app.is_running
