"""What the TUI tests share: experiment folders in tmp_path, the app, and the Pilot sequences
they all drive (wait, select an experiment, launch, run to the end, cancel, open a stored run)."""

import asyncio
import io
import sqlite3
import textwrap
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Tree

from crystallize_tui.tui.app import make_app
from crystallize_tui.tui.screens.dialogs import LaunchScreen
from crystallize_tui.tui.screens.history import HistoryScreen
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
    """coin (4 replicates, 3 conditions), games/slow (30 slow replicates, one treatment
    that fails) and typo (does not load)."""
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    write(tmp_path / "experiments" / "games" / "slow", {"experiment.yaml": SLOW, "game.py": GAME})
    write(tmp_path / "experiments" / "typo", {"experiment.yaml": "pipline: [game:play]\n"})
    return tmp_path


def app_for(root: Path, watch: bool = False):
    return make_app(root, root / ".crystallize" / "crystallize.db", watch=watch)


def stored(root: Path, sql: str):
    """Rows of ``sql`` on the workspace's real store file."""
    conn = sqlite3.connect(root / ".crystallize" / "crystallize.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def text_of(widget) -> str:
    """What a Static shows, as plain text (its content may be any rich renderable)."""
    from rich.console import Console

    console = Console(width=150, color_system=None, record=True, file=io.StringIO())
    content = widget.content
    console.print(content if not isinstance(content, str) else Text(content))
    return console.export_text()


def words_of(widget) -> str:
    """``text_of`` with line breaks and runs of spaces as single spaces (wrapping ignored)."""
    return " ".join(text_of(widget).split())


async def until(pilot, condition, timeout: float = 60.0) -> None:
    """Let the app run until ``condition()`` holds (the runs are real and take time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


async def home_ready(app, pilot) -> HomeScreen:
    """The home screen once discovery has filled it (it may be under other screens)."""
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


async def on_home(app, pilot, name: str) -> HomeScreen:
    """The home screen, loaded, with ``name`` selected."""
    home = await home_ready(app, pilot)
    await select(pilot, home, name)
    return home


def ran_to_end(app) -> bool:
    """A run screen is on top and its run has a result."""
    return isinstance(app.screen, RunScreen) and app.screen.result is not None


async def start_run(app, pilot, name: str, key: str = "r") -> RunScreen:
    """Select ``name`` on the home screen and press ``key``; the run screen it opens."""
    await on_home(app, pilot, name)
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, RunScreen))
    return app.screen


async def run_to_end(app, pilot, name: str, timeout: float = 60.0) -> RunScreen:
    """Run ``name`` with its own settings (r on home) and wait for its result."""
    await start_run(app, pilot, name)
    await until(pilot, lambda: ran_to_end(app), timeout=timeout)
    return app.screen


async def open_launch(app, pilot, name: str) -> LaunchScreen:
    """The launch dialog of ``name`` (enter on home)."""
    await on_home(app, pilot, name)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
    await pilot.pause()
    return app.screen


async def launch_to_end(app, pilot, dialog: LaunchScreen, timeout: float = 60.0) -> RunScreen:
    """Press enter in the dialog's first field and wait for the run's result."""
    dialog.query_one("#replicates").focus()
    await pilot.press("enter")
    await until(pilot, lambda: ran_to_end(app), timeout=timeout)
    return app.screen


async def cancel_after(pilot, screen: RunScreen, finished: int) -> None:
    """Press c once ``finished`` replicates are done; wait until the run has stopped."""
    await until(pilot, lambda: screen.query_one("#progress").finished_count >= finished)
    await pilot.press("c")
    await until(pilot, lambda: screen.result is not None)
    assert screen.result.cancelled


async def open_newest_stored_run(app, pilot) -> RunScreen:
    """h, then enter on the newest run in History: its stored run screen."""
    await pilot.press("h")
    assert isinstance(app.screen, HistoryScreen)
    app.screen.query_one("#runs", DataTable).focus()
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.stored is not None)
    await pilot.pause()
    return app.screen


async def pick_row(pilot, screen: RunScreen, condition: str, replicate: int) -> None:
    """Put the replicate table's cursor on (condition, replicate)."""
    table = screen.query_one("#replicates", DataTable)
    table.focus()
    row = next(i for i in range(table.row_count)
               if table.get_row_at(i)[0] == condition and str(table.get_row_at(i)[1]) == str(replicate))
    table.move_cursor(row=row)
    await pilot.pause()
    assert screen.query_one("#replicates").selected() == (condition, replicate)


async def open_debug(app, pilot, name: str, treatment: str, replicate: int = 0):
    """The debug screen of replicate ``replicate`` of ``treatment`` of experiment ``name``,
    opened the way the home screen's debug key does (its condition picked)."""
    from crystallize_tui.tui.screens.debug import DebugScreen

    home = await home_ready(app, pilot)
    experiment = next(f.experiment for f in home.discovery.experiments if f.name == name)
    app.action_debug_condition(experiment, treatment, replicate)
    await until(pilot, lambda: isinstance(app.screen, DebugScreen) and app.screen.query("#debug-log"))
    return app.screen


def footer_keys(app) -> dict[str, tuple[str, int]]:
    """The footer's keys on the screen in front: key shown -> (its word, the last column it
    reaches, 1-based); a key cut by the terminal's edge reaches past its width."""
    return {key.key_display: (key.description, key.region.right)
            for key in app.screen.query("FooterKey")}
