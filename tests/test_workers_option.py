"""``crystallize run -w N`` changes only the worker count: the start method and grace of
the YAML's ``plugins: parallel`` are kept (through the real CLI in a subprocess)."""

import json
import multiprocessing
import os
import subprocess
import sys

import pytest

STEPS = '''
import os


def where(config, ctx):
    ctx.metrics.add("pid", os.getpid())
    ctx.metrics.add("ppid", os.getppid())
'''

YAML = """pipeline: [steps:where]
replicates: 6
plugins:
  parallel: {max_workers: 2, start_method: forkserver, grace: 0.5}
"""


@pytest.fixture
def workspace(tmp_path):
    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver start method on this platform")
    folder = tmp_path / "experiments" / "where"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(YAML)
    (folder / "steps.py").write_text(STEPS)
    return tmp_path


def run(root, *args):
    """The run's replicates' metrics and the pid of the crystallize process."""
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    proc = subprocess.Popen([sys.executable, "-m", "crystallize_tui.cli", "run", "where", "--json",
                             *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    reps = json.loads(out)["replicate_results"]
    return [dict(r["values"]) for r in reps], proc.pid


@pytest.mark.parametrize("args", [(), ("-w", "3"), ("--workers", "2")])
def test_workers_keep_the_yamls_start_method(workspace, args):
    metrics, cli_pid = run(workspace, *args)
    assert len(metrics) == 6
    # forkserver: workers are children of the fork server, not of the crystallize process
    # (fork or spawn would make them its children)
    assert all(m["pid"] != cli_pid and m["ppid"] != cli_pid for m in metrics), (cli_pid, metrics)
    if args:
        assert len({m["pid"] for m in metrics}) <= int(args[1])


def test_one_worker_is_serial(workspace):
    metrics, cli_pid = run(workspace, "-w", "1")
    assert {m["pid"] for m in metrics} == {cli_pid}


def test_the_workers_option_keeps_grace_and_kind_too(workspace):
    """What the launch dialog and -w both call: grace has no effect a test can see
    without timing, so it is read back from the plugin."""
    from crystallize_tui.core.folders import load_experiment
    from crystallize_tui.core.plugins.parallel import ParallelExecution, with_workers

    experiment = load_experiment(workspace / "experiments" / "where")
    (parallel,) = [p for p in with_workers(experiment.plugins, 5) if isinstance(p, ParallelExecution)]
    assert (parallel.max_workers, parallel.kind, parallel.start_method, parallel.grace) == (
        5, "process", "forkserver", 0.5)
