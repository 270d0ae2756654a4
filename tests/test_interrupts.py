"""Ctrl-C and exits raised by steps, through the real ``crystallize run`` in a subprocess:
a step's own SystemExit or KeyboardInterrupt fails only its replicate; the user's Ctrl-C
(SIGINT to the process group, as a terminal sends it) is a clean cancel, exit 130, one line."""

import os
import signal
import sys
import time

import pytest
from cli_support import EXITS_STEP, cli, start_cli, write_experiment

from crystallize_tui import Experiment, ParallelExecution

STEPS = EXITS_STEP + '''
import os
import time
from pathlib import Path

MARKS = Path(os.environ["I9_MARKS"])
(MARKS / f"imported-{os.getpid()}").touch()  # the parent imports this at discovery


def play(config, ctx):
    (MARKS / f"step-{os.getpid()}-{ctx.treatment}-{ctx.replicate}").touch()
    time.sleep(config["delay"])
    ctx.metrics.add("x", ctx.rng.random())


def swallow(config, ctx):
    (MARKS / f"step-{os.getpid()}-{ctx.treatment}-{ctx.replicate}").touch()
    end = time.monotonic() + config["delay"]
    while time.monotonic() < end:
        try:
            time.sleep(0.02)
        except KeyboardInterrupt:  # a step that swallows Ctrl-C
            pass
    ctx.metrics.add("x", 1)
'''

EXPERIMENTS = {
    "serial": "pipeline: [steps:play]\ndatasource: {delay: 0.2}\nreplicates: 30\n",
    "fork": "pipeline: [steps:play]\ndatasource: {delay: 0.2}\nreplicates: 30\n"
            "plugins:\n  parallel: {max_workers: 2, start_method: fork}\n",
    "spawn": "pipeline: [steps:play]\ndatasource: {delay: 0.2}\nreplicates: 30\n"
             "plugins:\n  parallel: {max_workers: 2, start_method: spawn}\n",
    "exits": "pipeline: [steps:exits]\nreplicates: 4\n",
    "exits_spawn": "pipeline: [steps:exits]\nreplicates: 4\n"
                   "plugins:\n  parallel: {max_workers: 2, start_method: spawn}\n",
    "swallow": "pipeline: [steps:swallow]\ndatasource: {delay: 0.3}\nreplicates: 20\n",
}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("I9_MARKS", str(marks))
    for name, yaml in EXPERIMENTS.items():
        write_experiment(tmp_path / "ws", name, yaml, {"steps.py": STEPS})
    return tmp_path


def _interrupted_run(root, store, *args, wait_for, delay=0.0):
    """Start ``crystallize run`` in its own process group, wait until ``wait_for(pid,
    marker file names)`` holds, wait ``delay`` more, then Ctrl-C the whole group."""
    proc = start_cli(root / "ws", "--store", str(store), "run", *args, start_new_session=True)
    deadline = time.monotonic() + 60
    marks = root / "marks"
    while not wait_for(proc.pid, {p.name for p in marks.iterdir()}):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached its marker"
        time.sleep(0.002)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    for mark in marks.iterdir():
        mark.unlink()
    return proc.returncode, out, err


def parent_imported(pid, names):
    """The command loaded the experiment (discovery; the store is created next)."""
    return f"imported-{pid}" in names


def worker_imported(pid, names):
    """A spawned worker imported the experiment's module: it is still starting up."""
    return any(n.startswith("imported-") and n != f"imported-{pid}" for n in names)


def test_a_step_raising_systemexit_or_keyboardinterrupt_fails_only_its_replicate(workspace):
    # exits_spawn: the parallel options of its own YAML (spawn)
    for args in (("exits", "-w", "1"), ("exits", "-w", "2"), ("exits_spawn",)):
        out = cli(workspace / "ws", "run", *args)
        assert out.returncode == 1, (args, out.stdout, out.stderr)  # failures, not an abort
        assert "2 replicate(s) failed" in out.stdout
        assert "#1 (seed" in out.stdout and "SystemExit: 5" in out.stdout
        assert "#2 (seed" in out.stdout and "KeyboardInterrupt" in out.stdout
        assert "crashed" not in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_thread_workers_fail_only_the_replicate_that_exits(tmp_path):
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "i9_exit_steps.py").write_text(EXITS_STEP)
    try:
        from i9_exit_steps import exits

        result = Experiment(pipeline=[exits], replicates=4, store=tmp_path / "c.db",
                            plugins=[ParallelExecution(2, kind="thread")]).run()
    finally:
        sys.path.remove(str(tmp_path))
    assert result.status == "failed" and result.complete
    assert sorted((e.replicate, e.error) for e in result.errors) == [
        (1, "SystemExit: 5"), (2, "KeyboardInterrupt: ")]
    assert result.metrics["baseline"].metrics["x"] == [0, None, None, 3]


def test_ctrl_c_is_not_lost_when_a_step_swallows_keyboardinterrupt(workspace):
    code, out, err = _interrupted_run(workspace, workspace / "s.db", "swallow",
                                      wait_for=lambda pid, names: f"step-{pid}-baseline-1" in names)
    assert code == 130, (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    kept = len([p for p in (workspace / "marks").iterdir() if p.name.startswith("step-")])
    assert kept < 20  # stopped after the replicate the Ctrl-C landed in


def test_ctrl_c_at_any_moment_of_start_up_exits_130_with_one_line(workspace):
    """15 tries: the Ctrl-C lands from discovery through store creation into the first
    replicates (serial and forked workers), and while spawned workers are still importing.
    Every one must end the same way, whatever the moment."""
    failures = []
    for i in range(15):
        kind = ("serial", "fork", "spawn")[i % 3]
        if kind == "spawn":
            wait_for, delay = worker_imported, (i // 3) * 0.01
        else:
            wait_for, delay = parent_imported, (i // 3) * 0.08
        store = workspace / f"store-{i}" / "c.db"  # a fresh store: its creation is in range
        code, out, err = _interrupted_run(workspace, store, kind, wait_for=wait_for, delay=delay)
        lines = err.strip().splitlines()
        if code != 130 or len(lines) != 1 or "Traceback" in err or "Exception ignored" in err:
            failures.append(f"{kind} after {delay:.2f}s: exit {code}, stderr:\n{err}")
    assert not failures, "\n".join(failures)


def _ctrl_c_at_replicate_2(config, ctx):
    if ctx.replicate == 2:
        os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C now
        time.sleep(5)  # interrupted: a real Ctrl-C stops a sleeping step
    ctx.metrics.add("x", ctx.replicate)


def test_ctrl_c_in_a_script_cancels_the_run_and_keeps_what_finished(tmp_path):
    exp = Experiment(pipeline=[_ctrl_c_at_replicate_2], replicates=6, store=tmp_path / "c.db")
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    result = exp.last_result
    assert result.status == "cancelled" and not result.errors
    assert [r.replicate for r in result.replicate_results] == [0, 1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    stored = exp.store.runs(exp.name)[0]
    assert stored.status == "cancelled"


def test_ctrl_c_in_the_body_of_a_stream_loop_reaches_that_loop(tmp_path):
    exp = Experiment(pipeline=[_ctrl_c_at_replicate_2], replicates=2, store=tmp_path / "c.db")
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for rep in exp.stream():
            seen.append(rep.replicate)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    assert seen == [0]
    assert exp.last_result.status == "cancelled"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_slow_user_code_outside_steps_still_stops_it_at_once(tmp_path):
    loaded = []

    def slow_datasource():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the data loads
        time.sleep(5)
        loaded.append(True)
        return {}

    exp = Experiment(datasource=slow_datasource, pipeline=[_ctrl_c_at_replicate_2],
                     store=tmp_path / "c.db")
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    assert loaded == []  # interrupted inside the datasource, not after it
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
