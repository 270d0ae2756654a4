"""Debug runs its replicate in a process of its own: a crash or a hang there never takes the
app down, the output still arrives live, a hung step is stopped with a key."""

import os
import signal
import subprocess
import sys
import time

import pytest
from textual.widgets import Log, Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    home_ready,
    open_debug,
    text_of,
    until,
    words_of,
    write,
)

from crystallize_tui.tui.screens.home import HomeScreen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and sessions")

RISKY = '''
import ctypes
import os
import signal
import subprocess
import sys
import time
import types


def act(config, ctx):
    mode = config["mode"]
    print(f"debugging in process {os.getpid()}")
    if mode == "segfault":
        ctypes.string_at(0)  # the crash
    if mode == "raise":
        raise KeyError("no such card")
    if mode == "ghost":  # an event holding an object of a class only this process has
        ghost = types.ModuleType("ghost_module_of_the_debug")
        sys.modules[ghost.__name__] = ghost
        ghost.Ghost = type("Ghost", (), {"__module__": ghost.__name__})
        ctx.emit("haunt", who=ghost.Ghost())
    if mode == "hang":
        time.sleep(600)
    while mode == "gate" and not os.path.exists(config["gate"]):
        time.sleep(0.02)
    print("through the gate")
    ctx.metrics.add("ok", 1)
'''
CRASH_LINE = next(n for n, line in enumerate(RISKY.splitlines(), 1) if "the crash" in line)


@pytest.fixture
def risky(tmp_path):
    """An experiment whose treatments crash, raise, hang, wait on a file (``gate``) or emit
    what the app cannot unpickle (``ghost``)."""
    gate = tmp_path / "gate"
    write(tmp_path / "experiments" / "risky", {
        "act.py": RISKY,
        "experiment.yaml": f"""
            pipeline: [act:act]
            datasource: {{mode: fine, gate: "{gate}"}}
            replicates: 2
            treatments:
              segfault: {{mode: segfault}}
              raise: {{mode: raise}}
              hang: {{mode: hang}}
              gate: {{mode: gate}}
              ghost: {{mode: ghost}}
        """,
    })
    return tmp_path


def app_for(root):
    from crystallize_tui.tui.app import make_app

    return make_app(root, root / ".crystallize" / "crystallize.db", watch=False)


def log_lines(screen) -> list[str]:
    return list(screen.query_one("#debug-log", Log).lines)


def child_pid(screen) -> int:
    """The process the step printed it runs in, from the debug log."""
    line = next(line for line in log_lines(screen) if "debugging in process" in line)
    return int(line.rsplit(" ", 1)[1])


def gone(pid: int) -> bool:
    """No such process, or only its zombie (an orphan's reaper may be slow or absent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


# A window that starts a debug of the hung step, says the debug's pid, then waits to be killed.
WINDOW = """
import sys, time
from pathlib import Path
from crystallize_tui.commands.debug_child import child_args
from crystallize_tui.core.child import ChildProcess
root = Path(sys.argv[1])
child = ChildProcess.spawn(child_args(root, root / "store.db", "risky", "hang", 0),
                           log_path=root / "window.log")
for item in child.messages():
    if isinstance(item, str) or type(item).__name__ == "Output":
        print(child.pid, flush=True)
        break
time.sleep(600)
"""


async def test_a_segfaulting_step_leaves_the_app_up_and_says_how_and_where(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "segfault")
        await until(pilot, lambda: screen.error is not None)
        status = words_of(screen.query_one("#debug-status", Static))
        assert "killed by SIGSEGV (signal 11)" in status
        assert f"{risky / 'experiments' / 'risky' / 'act.py'}:{CRASH_LINE} in act" in status
        shown = text_of(screen.query_one("#traceback", Static))
        assert "Segmentation fault" in shown and f"act.py\", line {CRASH_LINE} in act" in shown
        assert screen.error.log_path.exists() and screen.error.log_path.name in shown  # kept
        # The app lives on: back home, and the same debug again.
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        screen = await open_debug(app, pilot, "risky", "segfault")
        await until(pilot, lambda: screen.error is not None)
        assert "SIGSEGV" in words_of(screen.query_one("#debug-status", Static))


async def test_an_exception_shows_the_users_highlighted_traceback(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "raise")
        await until(pilot, lambda: screen.error is not None)
        assert isinstance(screen.error, KeyError)
        assert child_pid(screen) != os.getpid()
        assert "failed: KeyError: 'no such card'" in words_of(screen.query_one("#debug-status", Static))
        text = text_of(screen.query_one("#traceback", Static))
        assert "act.py" in text and 'raise KeyError("no such card")' in text
        assert "crystallize_tui" not in text  # from the user's frame on


async def test_a_hung_step_is_stopped_by_a_key_and_runs_again_in_a_new_process(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "hang")
        await until(pilot, lambda: any("debugging in process" in line for line in log_lines(screen)))
        first = child_pid(screen)
        assert first != os.getpid()
        await pilot.press("c")
        await until(pilot, lambda: screen.error is not None)
        assert gone(first)
        assert "stopped" in words_of(screen.query_one("#debug-status", Static))
        await pilot.press("r")
        await until(pilot, lambda: any("debugging in process" in line for line in log_lines(screen)))
        second = child_pid(screen)
        assert second != first and not gone(second)
        # Leaving the screen ends it too: a debug does not outlive its window.
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await until(pilot, lambda: gone(second))


async def test_stop_and_back_work_while_the_process_is_still_starting(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "hang")
        await pilot.press("c")  # before the child has said anything (start-up takes ~0.2 s)
        await until(pilot, lambda: screen.error is not None)
        assert "stopped" in words_of(screen.query_one("#debug-status", Static))
        assert wait_gone(screen.child.pid)
        await pilot.press("escape")
        screen = await open_debug(app, pilot, "risky", "hang")
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)
        await until(pilot, lambda: screen.child is not None)
        assert wait_gone(screen.child.pid)


async def test_quitting_the_app_during_a_hung_debug_ends_its_process(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "hang")
        await until(pilot, lambda: any("debugging in process" in line for line in log_lines(screen)))
        pid = child_pid(screen)
        app.exit()
    assert wait_gone(pid)


def test_a_debug_ends_when_its_window_is_killed(risky):
    window = subprocess.Popen([sys.executable, "-c", WINDOW, str(risky)], stdout=subprocess.PIPE,
                              text=True)
    pid = None
    try:
        pid = int(window.stdout.readline())  # the step runs: it printed
        assert not gone(pid)
        window.kill()  # SIGKILL: no unmount, no atexit; the debug must notice by itself
        window.wait()
        assert wait_gone(pid)
    finally:
        window.kill()
        window.wait()
        if pid is not None and not gone(pid):  # failed: leave no hung process behind
            os.killpg(pid, signal.SIGKILL)


async def test_printed_output_arrives_while_the_step_still_runs(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "gate")
        await until(pilot, lambda: any("debugging in process" in line for line in log_lines(screen)))
        assert screen.outcome is None  # the step waits for the gate: the line came live
        assert child_pid(screen) != os.getpid()
        (risky / "gate").write_text("open")
        await until(pilot, lambda: screen.outcome is not None)
        assert screen.outcome.metrics == {"ok": 1}
        assert any("through the gate" in line for line in log_lines(screen))
        assert "finished" in words_of(screen.query_one("#debug-status", Static))
        # A debug that ended with its result leaves no log behind.
        await until(pilot, lambda: not list((risky / ".crystallize" / "debug").glob("*.log")))


async def test_an_event_the_app_cannot_read_is_said_and_the_result_still_arrives(risky):
    app = app_for(risky)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_debug(app, pilot, "risky", "ghost")
        await until(pilot, lambda: screen.outcome is not None or screen.error is not None)
        assert screen.outcome is not None and screen.outcome.metrics == {"ok": 1}, (screen.error, log_lines(screen))
        await until(pilot, lambda: any("could not be shown here" in line for line in log_lines(screen)))
        assert "ghost_module_of_the_debug" in "\n".join(log_lines(screen))
