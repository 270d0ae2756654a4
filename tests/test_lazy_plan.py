"""Huge replicate counts: the plan is made lazily, and counts past the limit are refused
with a clear one-line message."""

import os
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
from steps import coin_game

from crystallize_tui import ConfigError, Experiment, ParallelExecution, Treatment, derive_seed
from crystallize_tui.core.plan import MAX_REPLICATES


@pytest.mark.parametrize("plugins", [
    [], [ParallelExecution(max_workers=2, kind="thread")], [ParallelExecution(max_workers=2)],
], ids=["serial", "threads", "processes"])
def test_the_largest_run_starts_without_building_its_task_list(tmp_path, plugins):
    exp = Experiment(name="big", datasource={"p": 0.5}, pipeline=[coin_game],
                     replicates=MAX_REPLICATES, treatments=[Treatment("t", {"p": 0.2})],
                     plugins=plugins, store=tmp_path / "c.db", seed=3)
    tracemalloc.start()
    try:
        got = []
        for rep in exp.stream():
            got.append(rep)
            if len(got) == 4:
                _, peak = tracemalloc.get_traced_memory()  # planned and running
                break
    finally:
        tracemalloc.stop()
    # A list of a million seeds alone takes ~40 MB; the lazy plan stays far below that.
    # (The Result made at the end keeps a slot per planned replicate: hence the limit.)
    assert peak < 8_000_000, f"{peak:,} bytes traced"
    first = sorted((r.treatment, r.replicate) for r in got)
    if not plugins:
        assert first == [("baseline", 0), ("baseline", 1), ("t", 0), ("t", 1)]
    else:  # workers finish in any order, but they start from the front of the plan
        assert all(r.replicate < 8 for r in got), first
    assert all(r.seed == derive_seed(3, r.replicate) for r in got)
    assert exp.last_result.status == "cancelled"


def test_too_many_replicates_are_refused_by_the_api():
    with pytest.raises(ConfigError, match="at most 1,000,000 per condition, got 1,000,000,000"):
        Experiment(pipeline=[coin_game], replicates=10**9)
    with pytest.raises(ConfigError, match="at most 1,000,000"):
        Experiment(pipeline=[coin_game]).run(replicates=10**9)


def _workspace(tmp_path, replicates):
    folder = tmp_path / "experiments" / "huge"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(
        f"pipeline: [steps:play]\ndatasource: {{p: 0.5}}\nreplicates: {replicates}\n")
    (folder / "steps.py").write_text(textwrap.dedent('''
        def play(config, ctx):
            ctx.metrics.add("x", ctx.rng.random())
    '''))
    return tmp_path


def _cli(root, *args):
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    return subprocess.run([sys.executable, "-m", "crystallize_tui.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)


def test_crystallize_run_refuses_a_billion_replicates_in_yaml_with_file_and_line(tmp_path):
    out = _cli(_workspace(tmp_path, 1_000_000_000), "run", "huge")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "experiment.yaml:3" in lines[0] and "at most 1,000,000 per condition" in lines[0]


def test_crystallize_run_refuses_a_billion_replicates_on_the_command_line(tmp_path):
    out = _cli(_workspace(tmp_path, 3), "run", "huge", "-n", "1000000000")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "at most 1,000,000 per condition" in lines[0], out.stderr
