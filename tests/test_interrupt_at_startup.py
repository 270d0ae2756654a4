"""Ctrl-C while ``crystallize`` is still importing its modules: exit 130 with one line, like
a Ctrl-C during the run (not a traceback and death by SIGINT)."""

import subprocess
import sys
import textwrap

import pytest
from cli_support import cli_env

# The console script runs ``main()``; the audit hook sends the process a real SIGINT as the
# named module starts importing, which is when a Ctrl-C typed right after Enter lands.
LAUNCH = textwrap.dedent('''
    import os, runpy, signal, sys
    target = sys.argv.pop(1)
    def hook(event, args):
        if event == "import" and args[0] == target and not hook.sent:
            hook.sent = True
            os.kill(os.getpid(), signal.SIGINT)
    hook.sent = False
    sys.addaudithook(hook)
    runpy.run_module("crystallize_tui.cli", run_name="__main__", alter_sys=True)
''')


@pytest.mark.parametrize("module", [
    "crystallize_tui.commands.pipes",
    "crystallize_tui.commands.common",
    "crystallize_tui.core.store",
    "yaml",
])
def test_ctrl_c_while_the_command_imports_exits_130_in_one_line(tmp_path, module):
    (tmp_path / "experiments").mkdir()
    out = subprocess.run([sys.executable, "-c", LAUNCH, module, "run", "nothing"], cwd=tmp_path,
                         env=cli_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 130, (out.returncode, out.stderr)
    assert out.stderr.strip().splitlines() == ["interrupted"]
    assert out.stdout == ""
