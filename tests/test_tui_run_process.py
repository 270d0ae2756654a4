"""The UI runs every run in a process of its own: a step that segfaults, exits or hangs never
takes the app down, the run screen says what happened to which replicate, r resumes; quit
leaves runs going or cancels them."""

import os
import signal
import sys
import time

import pytest
from cli_support import crashing_experiment
from textual.widgets import Tree
from tui_support import app_for, on_home, start_run, stored, until, words_of

from crystallize_tui.core.store import Store
from crystallize_tui.tui.screens.attached import AttachedRunScreen
from crystallize_tui.tui.screens.dialogs import QuitScreen
from crystallize_tui.tui.screens.home import HomeScreen
from crystallize_tui.tui.screens.run import RunScreen
from crystallize_tui.tui.widgets.output import OutputLog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions and signals")


@pytest.fixture
def workspace(tmp_path):
    # Replicates of 0.06 s: longer than the store's group-commit window, so each is committed
    # (and announced) before the next runs, as a real game's would be; see the fast case below.
    crashing_experiment(tmp_path / "experiments" / "game", tmp_path / "marker", delay=0.06)
    crashing_experiment(tmp_path / "experiments" / "fast", tmp_path / "marker")
    crashing_experiment(tmp_path / "experiments" / "slow", tmp_path / "marker", replicates=30,
                        delay=0.1)
    return tmp_path


def status(screen) -> str:
    return words_of(screen.query_one("#run-status"))


def output(screen) -> str:
    return "\n".join(screen.query_one("#output", OutputLog).lines)


def label_of(home, name: str) -> str:
    tree = home.query_one("#experiments", Tree)
    return next(str(n.label) for n in tree.root.children
                if n.data is not None and n.data[1].name == name)


def status_of(root, run_id: str) -> str:
    return stored(root, f"SELECT status FROM runs WHERE run_id = '{run_id}'")[0][0]


def live_status(root, run_id: str) -> str:
    """The run's status as every view reads it ("interrupted" once its process is gone)."""
    return Store(root / ".crystallize" / "crystallize.db").live_status(run_id)[0]


def wait_for(condition, timeout: float = 60.0) -> None:
    """Outside the app (it has exited): poll the store until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def test_a_segfault_leaves_the_app_up_says_which_replicate_and_r_resumes(workspace):
    (workspace / "marker").write_text("segfault")
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "game")
        await until(pilot, lambda: screen.died is not None)
        await until(pilot, lambda: "SIGSEGV" in status(screen))
        assert status(screen) == ("run process killed by SIGSEGV (signal 11) while running "
                                  "baseline replicate 2 (at game.py:12 in play); 4 finished "
                                  "replicates kept · r resumes")
        assert "Segmentation fault" in output(screen) and "game.py" in output(screen)
        # The statistics end on every replicate it finished, saying the run is incomplete.
        await until(pilot, lambda: "interrupted: 2 replicate(s) done in every condition"
                    in str(screen.query_one("#stats-pane").border_subtitle))
        run_id = screen.started.run_id
        assert app.is_running and app.screen is screen
        await pilot.press("escape")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(pilot, lambda: "interrupted" in label_of(home, "game"))

        (workspace / "marker").unlink()
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("r")  # resume, in a new run process
        await until(pilot, lambda: screen.result is not None)
        assert screen.result.run_id == run_id and screen.result.status == "completed"
        assert screen.started.done_before == {"baseline": 2, "better": 2}
        assert len(screen.result.replicate_results) == 10
        assert "completed" in status(screen)
    assert status_of(workspace, run_id) == "completed"


async def test_a_segfault_among_fast_replicates_names_the_right_one_and_counts_only_kept(workspace):
    """Replicates faster than the group-commit window: the ones finished just before the crash
    may not be committed yet (never announced, so never counted as kept); the screen still
    names the replicate that was running, and every replicate it counts is in the store."""
    (workspace / "marker").write_text("segfault")
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "fast")
        await until(pilot, lambda: "SIGSEGV" in status(screen))
        words = status(screen)
        assert words.startswith("run process killed by SIGSEGV (signal 11) while running "
                                "baseline replicate 2 (at game.py:12 in play);"), words
        kept = int(words.split("; ")[1].split()[0])
        run_id = screen.started.run_id
    stored_count = stored(workspace, f"SELECT COUNT(*) FROM replicates WHERE run_id = '{run_id}'")
    assert kept <= stored_count[0][0] <= 4


async def test_os_exit_in_a_step_is_told_as_an_exit_code(workspace):
    (workspace / "marker").write_text("exit")
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "game")
        await until(pilot, lambda: screen.died is not None and "kept" in status(screen))
        assert status(screen).startswith("run process exited with code 3 while running "
                                         "baseline replicate 2;")
        assert app.is_running
    assert live_status(workspace, screen.started.run_id) == "interrupted"


async def test_cancel_of_a_hung_step_terminates_its_process_after_the_grace(workspace):
    (workspace / "marker").write_text("hang")
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "game")
        await until(pilot, lambda: ("baseline", 2) in (screen.process.running_replicates()
                                                       if screen.process else []))
        await pilot.press("c")
        await until(pilot, lambda: "cancelling" in status(screen))
        await until(pilot, lambda: screen.died is not None and "kept" in status(screen))
        assert status(screen).startswith("run process did not stop within 5 s of the cancel: "
                                         "terminated while running baseline replicate 2;")
        assert screen.process.exit_code is not None
        run_id = screen.started.run_id
        await until(pilot, lambda: screen.check_action("resume", ()))
    assert live_status(workspace, run_id) == "interrupted"


async def test_quit_and_leave_running_the_run_finishes_after_the_app_exited(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 2)
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("l")
        await until(pilot, lambda: not app.is_running)
    process, run_id = screen.process, screen.started.run_id
    assert process.alive  # the app is gone, the run goes on
    assert status_of(workspace, run_id) == "running"
    wait_for(lambda: status_of(workspace, run_id) == "completed")
    assert stored(workspace, f"SELECT COUNT(*) FROM replicates WHERE run_id = '{run_id}'") == [
        (60,)]


async def test_quit_and_cancel_stops_the_run_then_exits(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 2)
        await pilot.press("q")
        await pilot.press("c")
        await until(pilot, lambda: not app.is_running)
        assert screen.result is not None and screen.result.cancelled
    assert status_of(workspace, screen.started.run_id) == "cancelled"
    assert not screen.process.alive


async def test_r_on_home_of_an_experiment_another_process_runs_shows_that_run(workspace):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        first = await start_run(app, pilot, "slow")
        await until(pilot, lambda: first.started is not None)
        await pilot.press("q")
        await pilot.press("l")  # this window leaves; the run goes on
        await until(pilot, lambda: not app.is_running)
    second = app_for(workspace, watch=True)
    async with second.run_test(size=(160, 48)) as pilot:
        home = await on_home(second, pilot, "slow")
        await until(pilot, lambda: "running" in label_of(home, "slow"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(second.screen, AttachedRunScreen))
        assert second.screen.run_id == first.started.run_id
        assert not any(type(s) is RunScreen for s in second.screen_stack)  # no second run
        await pilot.press("c")  # cancel works from any attached window
        await until(pilot, lambda: status_of(workspace, first.started.run_id) == "cancelled")


async def test_a_run_process_killed_with_sigkill_reads_interrupted_and_r_resumes(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slow")
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 4)
        os.kill(screen.process.pid, signal.SIGKILL)
        await until(pilot, lambda: screen.died is not None and "kept" in status(screen))
        assert status(screen).startswith("run process killed by SIGKILL (signal 9) while running ")
        run_id = screen.started.run_id
        assert live_status(workspace, run_id) == "interrupted"
        await pilot.press("r")
        await until(pilot, lambda: screen.result is not None, timeout=90)
        assert screen.result.run_id == run_id and screen.result.status == "completed"
        assert len(screen.result.replicate_results) == 60
