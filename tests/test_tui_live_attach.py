"""The UI sees runs from any process through the store: a run started with
`crystallize run NAME --detach` in a subprocess shows on home as live, with its progress;
opening it attaches the run screen (state, then live tail), and `c` there cancels it."""

import os
import re
import signal
import sqlite3
import subprocess
import sys

import pytest
from textual.widgets import DataTable, Tree
from tui_support import COIN, GAME, SLOW, app_for, on_home, stored, until, write

from crystallize_tui.tui.screens.attached import AttachedRunScreen
from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.run import RunScreen
from crystallize_tui.tui.widgets.output import OutputLog
from crystallize_tui.tui.widgets.tables import ProgressTable, ReplicateTable


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    write(tmp_path / "experiments" / "slow", {"experiment.yaml": SLOW, "game.py": GAME})
    return tmp_path


def cli(workspace, *words: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    return subprocess.run([sys.executable, "-m", "crystallize_tui.cli", *words], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def detached(workspace):
    """A run of "slow" started detached in its own process; cancelled at the end if still going."""
    started = cli(workspace, "run", "slow", "--detach")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[0]
    yield run_id
    cli(workspace, "cancel", run_id)


def label_of(home, name: str) -> str:
    tree = home.query_one("#experiments", Tree)
    for node in tree.root.children:
        if node.data is not None and node.data[1].name == name:
            return str(node.label)
    raise AssertionError(f"{name} not listed")


def progress(label: str) -> tuple[int, int] | None:
    found = re.search(r"running (\d+)/(\d+)", label)
    return (int(found.group(1)), int(found.group(2))) if found else None


async def attach_to_slow(app, pilot) -> AttachedRunScreen:
    """From home, once it lists "slow" as live: `a` on it; the attached run screen."""
    home = await on_home(app, pilot, "coin")
    await until(pilot, lambda: progress(label_of(home, "slow")) is not None)
    await on_home(app, pilot, "slow")
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, AttachedRunScreen))
    return app.screen


async def test_home_lists_a_detached_run_as_live_with_its_progress_growing(workspace, detached):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "coin")
        await until(pilot, lambda: progress(label_of(home, "slow")) is not None)
        first = progress(label_of(home, "slow"))
        assert first[1] == 60  # 30 replicates of the baseline and of "broken"
        # Refreshed while on screen: the count grows as the other process commits.
        await until(pilot, lambda: progress(label_of(home, "slow"))[0] > first[0])
        assert "never run" in label_of(home, "coin")
        assert cli(workspace, "cancel", detached).returncode == 0
        await until(pilot, lambda: "cancelled" in label_of(home, "slow"))
    assert stored(workspace, f"SELECT status FROM runs WHERE run_id = '{detached}'") == [
        ("cancelled",)]


async def test_attaching_shows_progress_and_output_growing_and_c_cancels_the_run(
        workspace, detached):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await attach_to_slow(app, pilot)
        progress_table = screen.query_one("#progress", ProgressTable)
        output = screen.query_one("#output", OutputLog)
        replicates = screen.query_one("#replicates", ReplicateTable)
        # The state first: every replicate the other process finished, its output so far.
        await until(pilot, lambda: progress_table.finished_count > 0 and output.total > 0)
        done, lines = progress_table.finished_count, output.total
        await until(pilot, lambda: progress_table.finished_count > done and output.total > lines)
        await until(pilot, lambda: replicates.row_count > 0)
        assert "turn" in "\n".join(output.lines)
        await pilot.press("c")
        await until(pilot, lambda: screen.result is not None)
        kept = stored(workspace, f"SELECT COUNT(*) FROM replicates WHERE run_id = '{detached}'")
        assert stored(workspace, f"SELECT status FROM runs WHERE run_id = '{detached}'") == [
            ("cancelled",)]
        assert kept[0][0] >= done + 1  # finished replicates kept
        # The final state, as for a stored run: the result, every kept replicate listed.
        assert screen.result.status == "cancelled"
        assert len(screen.finished) == kept[0][0]
        await until(pilot, lambda: replicates.row_count == kept[0][0])
        status = str(screen.query_one("#run-status").render())
        assert "cancelled" in status


async def test_leaving_the_attached_screen_leaves_the_run_going(workspace, detached):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "slow")
        await until(pilot, lambda: progress(label_of(home, "slow")) is not None)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AttachedRunScreen))
        await until(pilot, lambda: app.screen.query_one("#progress", ProgressTable)
                    .finished_count > 0)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is home)
        before = progress(label_of(home, "slow"))[0]
        await until(pilot, lambda: progress(label_of(home, "slow"))[0] > before)
    assert stored(workspace, f"SELECT status FROM runs WHERE run_id = '{detached}'") == [
        ("running",)]


async def test_opening_a_running_run_from_history_attaches_to_it(workspace, detached):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "slow")
        await until(pilot, lambda: progress(label_of(home, "slow")) is not None)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        app.screen.query_one("#runs", DataTable).focus()
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AttachedRunScreen))
        screen = app.screen
        table = screen.query_one("#progress", ProgressTable)
        await until(pilot, lambda: table.finished_count > 0)
        done = table.finished_count
        await until(pilot, lambda: table.finished_count > done)  # the live tail, not a snapshot
        assert screen.run_id == detached and screen.result is None


async def test_an_attached_run_whose_process_is_killed_reads_interrupted(workspace, detached):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "slow")
        await until(pilot, lambda: progress(label_of(home, "slow")) is not None)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AttachedRunScreen))
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#progress", ProgressTable)
                    .finished_count > 0)
        [(pid,)] = stored(workspace, f"SELECT pid FROM runs WHERE run_id = '{detached}'")
        os.kill(pid, signal.SIGKILL)
        await until(pilot, lambda: screen.result is not None)
        await until(pilot, lambda: "interrupted" in str(screen.query_one("#run-status").render()))
        assert "--resume" in str(screen.query_one("#run-status").render())
        assert screen.result.status == "interrupted"
        kept = len(stored(workspace, f"SELECT 1 FROM replicates WHERE run_id = '{detached}' "
                                     "AND status = 'ok'"))  # failed ones run again
        await pilot.press("r")  # resume it here, in a run process of this window
        await until(pilot, lambda: type(app.screen) is RunScreen and app.screen.started is not None)
        resumed = app.screen
        assert resumed.started.run_id == detached
        assert sum(resumed.started.done_before.values()) == kept
        await pilot.press("c")
        await until(pilot, lambda: resumed.result is not None)
        assert resumed.result.status == "cancelled"


def test_the_attached_tail_rereads_only_the_replicates_finished_lately(workspace):
    """A watcher of a 100,000-replicate run must not read all of them at every poll: the
    store gives the replicates finished since a time, with their metrics."""
    assert cli(workspace, "run", "coin", "-n", "6").returncode == 0
    (run_id, ), = stored(workspace, "SELECT run_id FROM runs")
    # Fast replicates share their group commit's time: spread them as a slow run's would be.
    db = sqlite3.connect(workspace / ".crystallize" / "crystallize.db")
    with db:
        db.execute("UPDATE replicates SET finished_at = finished_at + replicate "
                   "+ (condition = 'baseline') * 0.5")
    db.close()
    times = sorted(t for (t, ) in stored(workspace, "SELECT finished_at FROM replicates"))
    from crystallize_tui.core.store import Store

    store = Store(workspace / ".crystallize" / "crystallize.db")

    def read(**since):
        return [(r.treatment, r.replicate, r.seed, dict(r.metrics))
                for r in store.replicates(run_id, **since)]

    every = read()
    assert read(finished_since=None) == every
    late = read(finished_since=times[10])
    assert len(every) == 18 and len(late) == len([t for t in times if t >= times[10]]) < 18
    assert all(r in every for r in late) and all(r[3] for r in late)
    assert read(finished_since=times[-1] + 1) == []


async def test_the_ui_attaches_to_a_foreground_crystallize_run_in_another_terminal(workspace):
    """`crystallize run` (no --detach) in a terminal of its own: the UI sees it, attaches, and
    ends on the same final state the terminal reports."""
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    terminal = subprocess.Popen([sys.executable, "-m", "crystallize_tui.cli", "run", "slow",
                                 "-n", "3"], cwd=workspace, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        app = app_for(workspace, watch=True)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = await attach_to_slow(app, pilot)
            await until(pilot, lambda: screen.result is not None)
            assert screen.result.status == "failed"  # "broken" raises in every replicate
            replicates = screen.query_one("#replicates", ReplicateTable)
            await until(pilot, lambda: replicates.row_count == 6)
            assert screen.run_id == screen.result.run_id
        out, _ = terminal.communicate(timeout=60)
    finally:
        if terminal.poll() is None:
            terminal.kill()
    assert terminal.returncode == 1  # failed replicates, as the attached screen shows
    assert f"run {screen.run_id} (failed)" in out
