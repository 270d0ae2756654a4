"""The TUI driven by the Pilot against real experiments in tmp_path: every screen, by its keys."""

import asyncio
import io
import sqlite3
import textwrap
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Log, Static, Tree

from crystallize_tui.tui.app import make_app
from crystallize_tui.tui.screens.debug import DebugScreen
from crystallize_tui.tui.screens.dialogs import ConfirmScreen, HelpScreen, LaunchScreen
from crystallize_tui.tui.screens.diff import DiffScreen
from crystallize_tui.tui.screens.history import CompareRunsScreen, HistoryScreen
from crystallize_tui.tui.screens.home import HomeScreen
from crystallize_tui.tui.screens.run import RunScreen

GAME = '''
import time

def play(config, ctx):
    for turn in range(config.get("turns", 2)):
        print(f"turn {turn} of {ctx.treatment} #{ctx.replicate}")
        ctx.emit("turn", n=turn)
        time.sleep(config.get("delay", 0))
    if config.get("broken"):
        raise ValueError("the board is on fire")
    ctx.metrics.add("win", int(ctx.rng.random() < config["p"]))
    ctx.metrics.add("score", ctx.rng.gauss(config["p"], 1) + ctx.rng.random())
'''

COIN = '''
description: a biased coin game
pipeline: [game:play]
datasource: {p: 0.3, board: {size: 9}}
replicates: 4
seed: 1
treatments:
  biased: {p: 0.8}
  bigger: {board: {size: 13}}
hypotheses:
  - {metric: win, direction: greater}
'''

SLOW = '''
pipeline: [game:play]
datasource: {p: 0.5, turns: 20, delay: 0.05}
replicates: 30
treatments:
  broken: {broken: true}
'''


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    write(tmp_path / "experiments" / "games" / "slow", {"experiment.yaml": SLOW, "game.py": GAME})
    write(tmp_path / "experiments" / "typo", {"experiment.yaml": "pipline: [game:play]\n"})
    return tmp_path


def app_for(root: Path, watch: bool = False):
    return make_app(root, root / ".crystallize" / "crystallize.db", watch=watch)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds (the runs are real and take time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


async def home_ready(app, pilot):
    await until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.discovery is not None)
    await pilot.pause()  # the tree places its cursor on the next refresh
    await pilot.pause()
    return app.screen


async def select(pilot, home, name: str) -> None:
    tree = home.query_one("#experiments", Tree)
    for line in range(tree.last_line + 1):
        node = tree.get_node_at_line(line)
        if node is not None and node.data and node.data[0] == "experiment" and node.data[1].name == name:
            tree.move_cursor(node)
            await pilot.pause()
            return
    raise AssertionError(f"{name} not in the tree")


def text_of(widget) -> str:
    """What a Static shows, as plain text (its content may be any rich renderable)."""
    from rich.console import Console

    console = Console(width=150, color_system=None, record=True, file=io.StringIO())
    content = widget.content
    console.print(content if not isinstance(content, str) else Text(content))
    return console.export_text()


def stored(root: Path, sql: str):
    conn = sqlite3.connect(root / ".crystallize" / "crystallize.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_home_lists_experiments_by_folder_and_load_errors(workspace):
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


async def test_launch_with_overrides_runs_and_shows_results_and_statistics(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        await pilot.press("enter")
        assert isinstance(app.screen, LaunchScreen)
        replicates = app.screen.query_one("#replicates")
        replicates.value = "6"
        app.screen.query_one("#treatments").deselect("bigger")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.result is not None)
        screen = app.screen
        assert screen.query_one("#replicates", DataTable).row_count == 12  # baseline + biased
        stats = screen.query_one("#stats", DataTable)
        assert stats.row_count == 2  # win and score, biased vs baseline
        assert "McNemar exact" in str(stats.get_row_at(0))
        assert "hypothesis: win greater in biased" in text_of(screen.query_one("#verdicts", Static))
        assert "completed" in text_of(screen.query_one("#run-status", Static))
        assert stored(workspace, "SELECT status, replicates FROM runs") == [("completed", 6)]
        assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(12,)]


async def test_live_output_and_progress_arrive_while_the_run_goes_then_cancel_keeps_them(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
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


async def test_failed_replicates_are_marked_and_their_error_opens(workspace):
    (workspace / "experiments" / "games" / "slow" / "experiment.yaml").write_text(
        SLOW.replace("turns: 20, delay: 0.05", "turns: 1, delay: 0").replace("replicates: 30", "replicates: 2"))
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.result is not None)
        table = app.screen.query_one("#replicates", DataTable)
        table.focus()
        failed_row = next(i for i in range(table.row_count) if "failed" in str(table.get_row_at(i)))
        table.move_cursor(row=failed_row)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ErrorScreen"
        assert "ValueError: the board is on fire" in app.screen.error
        assert 'game.py", line 10, in play' in app.screen.traceback


async def test_resume_after_cancel_completes_the_run(workspace):
    (workspace / "experiments" / "games" / "slow" / "experiment.yaml").write_text(
        SLOW.replace("delay: 0.05", "delay: 0.01").replace("replicates: 30", "replicates: 8"))
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 2)
        await pilot.press("c")
        await until(pilot, lambda: screen.result is not None)
        assert screen.result.cancelled
        await pilot.press("r")
        await until(pilot, lambda: screen.result is not None and not screen.running)
        assert screen.result.complete
        assert stored(workspace, "SELECT COUNT(*) FROM runs") == [(1,)]
        assert stored(workspace, "SELECT COUNT(*) FROM replicates") == [(16,)]


async def test_debug_a_failing_treatment_shows_the_users_traceback(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
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


async def test_history_opens_a_stored_run_and_compares_two(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        for _ in range(2):
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.result is not None)
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


async def test_diff_screen_shows_only_what_differs(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        await pilot.press("D")
        assert isinstance(app.screen, DiffScreen)
        text = text_of(app.screen.query_one("#diff", Static))
        assert "--- baseline" in text and "+++ biased" in text
        assert "- p: 0.3" in text and "+ p: 0.8" in text and "board" not in text
        await pilot.press("s")
        await pilot.pause()
        assert "--- biased" in text_of(app.screen.query_one("#diff", Static))


async def test_the_list_reloads_when_files_change_keeping_the_selection(workspace):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
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


async def test_quit_asks_first_while_a_run_is_live(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slow")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.running)
        run_screen = app.screen
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is run_screen
        await pilot.press("q")
        await pilot.press("y")
        await until(pilot, lambda: not run_screen.running, timeout=30)
        assert run_screen.result.cancelled


async def test_help_and_command_palette_list_the_actions(workspace):
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


async def test_a_plugin_failure_is_a_message_not_a_crash(workspace):
    write(workspace / "experiments" / "gpu", {
        "experiment.yaml": "pipeline: [game:play]\ndatasource: {p: 0.5}\nplugins:\n"
                           "  artifacts: {root_dir: /proc/forbidden}\n",
        "game.py": GAME,
    })
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "gpu")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and not app.screen.running
                    and "stopped" in text_of(app.screen.query_one("#run-status", Static)))
        status = text_of(app.screen.query_one("#run-status", Static))
        assert "PluginError" in status and "ArtifactPlugin" in status
        assert app.is_running
