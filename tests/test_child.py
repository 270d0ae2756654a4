"""A child process that runs user code for a window: its messages, its death in words, its end."""

import sys
import time

import pytest

from crystallize_tui.core.child import ChildProcess, describe_exit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions and signals")


def spawn(tmp_path, what, *extra):
    return ChildProcess.spawn(["tests.child_programs", what, *extra], log_path=tmp_path / "child.log",
                              cwd=__import__("pathlib").Path(__file__).parent.parent)


def test_a_segfault_in_the_child_is_told_with_its_python_traceback(tmp_path):
    child = spawn(tmp_path, "segfault", "-")
    messages = list(child.messages())  # ends when the child is gone
    assert messages[0][0] == "hello"
    code = child.wait(30)
    assert describe_exit(code) == "killed by SIGSEGV (signal 11)"
    tail = "\n".join(child.log_tail())
    assert "Segmentation fault" in tail and "child_programs.py" in tail


def test_os_exit_reads_as_an_exit_code(tmp_path):
    child = spawn(tmp_path, "exit3", "-")
    assert [m[0] for m in child.messages()] == ["hello"]
    assert describe_exit(child.wait(30)) == "exited with code 3"


def test_a_child_goes_on_when_its_parent_stops_listening(tmp_path):
    marker = tmp_path / "marker"
    child = spawn(tmp_path, "outlive", str(marker))
    first = next(iter(child.messages()))
    assert first[0] == "hello"
    child.detach()
    assert child.wait(30) == 0
    assert marker.read_text() == "done closed=True"


def test_terminate_ends_a_hung_child(tmp_path):
    child = spawn(tmp_path, "hang", "-")
    assert next(iter(child.messages()))[0] == "hello"
    began = time.monotonic()
    code = child.terminate(grace=5)
    assert code == -15 and time.monotonic() - began < 30
