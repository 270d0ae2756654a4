"""``crystallize run-once`` through its real entry point: a step's own SystemExit or
KeyboardInterrupt fails the replicate (exit 1, its traceback), the user's Ctrl-C still
cancels (exit 130), and -k out of range names -k and its allowed range."""

import os
import signal
import time

import pytest
from cli_support import EXITS_STEP, cli, start_cli, write_experiment

STEPS = EXITS_STEP + '''
import os
import time
from pathlib import Path


def slow(config, ctx):
    Path(os.environ["I9_STARTED"]).touch()
    time.sleep(30)
    ctx.metrics.add("x", 1)
'''


@pytest.fixture
def workspace(tmp_path):
    for name, step in (("exits", "exits"), ("slow", "slow")):
        write_experiment(tmp_path, name, f"pipeline: [steps:{step}]\nreplicates: 4\n",
                         {"steps.py": STEPS})
    return tmp_path


@pytest.mark.parametrize("k, error", [(1, "SystemExit: 5"), (2, "KeyboardInterrupt")])
def test_a_step_raising_systemexit_or_keyboardinterrupt_is_a_failed_replicate(workspace, k, error):
    out = cli(workspace, "run-once", "exits", "-k", str(k))
    assert out.returncode == 1, (out.stdout, out.stderr)  # a failed replicate, as the README says
    assert "Traceback (most recent call last)" in out.stderr
    assert "steps.py" in out.stderr and error in out.stderr
    assert f"baseline #{k} failed: {error}" in out.stderr
    assert "cancelled" not in out.stderr


def test_ctrl_c_during_run_once_still_cancels_with_130(workspace):
    started = workspace / "started"
    proc = start_cli(workspace, "run-once", "slow", env={"I9_STARTED": str(started)},
                     start_new_session=True)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "cancelled" in err and "Traceback" not in err


@pytest.mark.parametrize("k", ["2000000", "1000000", "-1"])
def test_k_out_of_range_names_k_and_its_range(workspace, k):
    out = cli(workspace, "run-once", "exits", "-k", k)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"crystallize: error: -k {k}: the replicate index must be between 0 and 999,999 "
        "(a run has at most 1,000,000 replicates per condition)"]


def test_the_last_allowed_k_runs(workspace):
    out = cli(workspace, "run-once", "exits", "-k", "999999")
    assert out.returncode == 0, out.stderr
    assert "baseline #999999 (seed" in out.stdout and "x=999999" in out.stdout
