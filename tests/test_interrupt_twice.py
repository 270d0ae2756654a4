"""A second Ctrl-C right after a run was cancelled (an impatient user) still ends
``crystallize`` with exit 130 and the cancel line, not a death by SIGINT."""

import signal
import time

from cli_support import start_cli, stored_replicates, write_experiment

STEP = '''
import time

def play(config, ctx):
    time.sleep(0.1)
    ctx.metrics.add("x", ctx.rng.random())
'''


def test_a_second_ctrl_c_as_the_command_ends_still_exits_130(tmp_path):
    write_experiment(tmp_path, "slow", "pipeline: [steps:play]\nreplicates: 200\n",
                     {"steps.py": STEP})
    db = tmp_path / ".crystallize" / "crystallize.db"
    codes = []
    for _ in range(6):
        before = stored_replicates(db)
        proc = start_cli(tmp_path, "run", "slow", start_new_session=True)
        deadline = time.monotonic() + 60
        while stored_replicates(db) < before + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        lines = []
        for line in proc.stderr:  # the cancel line: what is left is the command ending
            lines.append(line)
            if line.startswith("cancelled:"):
                proc.send_signal(signal.SIGINT)
                break
        rest = proc.stderr.read()
        codes.append(proc.wait(timeout=60))
        assert "Traceback" not in rest and any(li.startswith("cancelled:") for li in lines), lines
    assert codes == [130] * 6
