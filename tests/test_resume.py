"""Resuming a stored run through the CLI: changed helper modules, removed treatments, two resumes."""

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from crystallize_tui import Experiment, Store, StoreError, Treatment

YAML = """\
pipeline: [steps:step]
replicates: 20
treatments:
  a: {shift: 1}
  b: {shift: 2}
"""

STEPS = """
import os, time
from helper import bonus

def step(config, ctx):
    if os.environ.get("FLAKY") and ctx.replicate >= 5:
        raise RuntimeError("flaky network")
    time.sleep(float(os.environ.get("SLOW", "0")))
    ctx.metrics.add("score", ctx.rng.random() + bonus(config.get("shift", 0)))
"""

HELPER = "FACTOR = 2\n\ndef bonus(shift):\n    return shift * FACTOR\n"


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "experiments" / "game"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(YAML)
    (folder / "steps.py").write_text(textwrap.dedent(STEPS))
    (folder / "helper.py").write_text(HELPER)
    (folder / "notes.py").write_text("# scratch file, imported by nothing\n")
    return tmp_path


def cli(root: Path, *args: str, env: dict | None = None, wait: bool = True):
    base = {k: v for k, v in os.environ.items() if k not in ("CRYSTALLIZE_HOME", "FLAKY", "SLOW")}
    cmd = [sys.executable, "-m", "crystallize_tui.cli", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=root, env={**base, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=root, env={**base, **(env or {})}, capture_output=True,
                          text=True, timeout=120)


def failed_run(workspace: Path) -> str:
    """A stored run whose replicates 5.. failed: resumable."""
    out = cli(workspace, "run", "game", env={"FLAKY": "1"})
    assert out.returncode == 1, out.stderr
    return out.stdout.strip().splitlines()[-1].split()[1]


def db(workspace: Path) -> Path:
    return workspace / ".crystallize" / "crystallize.db"


def test_a_changed_helper_module_refuses_the_resume_and_an_unimported_file_does_not(workspace):
    run_id = failed_run(workspace)
    helper = workspace / "experiments" / "game" / "helper.py"
    helper.write_text(HELPER.replace("FACTOR = 2", "FACTOR = 3"))
    refused = cli(workspace, "run", "game", "--resume")
    assert refused.returncode == 2
    assert f"cannot resume run {run_id}" in refused.stderr
    assert "module helper.py changed" in refused.stderr

    helper.write_text(HELPER)
    (workspace / "experiments" / "game" / "notes.py").write_text("# edited\n")
    resumed = cli(workspace, "run", "game", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} (completed)" in resumed.stdout


def test_a_forced_resume_after_a_treatment_was_removed_leaves_it_out_of_the_run(workspace):
    run_id = failed_run(workspace)
    (workspace / "experiments" / "game" / "experiment.yaml").write_text(
        YAML.replace("  b: {shift: 2}\n", ""))
    refused = cli(workspace, "run", "game", "--resume")
    assert refused.returncode == 2 and "condition 'b' removed" in refused.stderr
    forced = cli(workspace, "run", "game", "--resume", "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"run {run_id} (completed)" in forced.stdout

    doc = json.loads(cli(workspace, "export", run_id, "-f", "json").stdout)
    assert doc["conditions"] == ["baseline", "a"]
    assert {r["treatment"] for r in doc["replicate_results"]} == {"baseline", "a"}
    assert len(doc["replicate_results"]) == 40
    history = cli(workspace, "history", "game").stdout
    assert run_id in history and " 40 " in history and " 0 " in history
    shown = cli(workspace, "show", run_id).stdout
    assert "condition 'b' left out at resume 1: its 20 stored replicate(s) are kept" in shown
    with sqlite3.connect(db(workspace)) as conn:  # kept, not deleted
        assert conn.execute("SELECT COUNT(*) FROM replicates WHERE condition = 'b'").fetchone() == (20,)


def test_a_second_resume_while_the_first_runs_is_refused(workspace):
    run_id = failed_run(workspace)
    first = cli(workspace, "run", "game", "--resume", env={"SLOW": "0.1"}, wait=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the first resume has claimed the run
            with sqlite3.connect(db(workspace)) as conn:
                if conn.execute("SELECT resumes FROM runs").fetchone() == (1,):
                    break
            time.sleep(0.05)
        second = cli(workspace, "run", "game", "--resume")
        assert first.poll() is None, "the first resume must still be running for this test"
        assert second.returncode == 2
        assert f"run {run_id} is being recorded right now by process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    record = Store(db(workspace)).runs("game")[0]
    assert (record.run_id, record.status, record.ok, record.resumes) == (run_id, "completed", 60, 1)


def test_a_resume_prepared_before_another_resume_ran_is_refused(tmp_path):
    store = tmp_path / "s.db"
    flaky = {"on": True}

    def step(config, ctx):
        if flaky["on"] and ctx.replicate >= 2:
            raise RuntimeError("flaky")
        ctx.metrics.add("x", ctx.replicate)

    def make():
        return Experiment(name="twice", pipeline=[step], replicates=6, store=store,
                          treatments=[Treatment("t", {"k": 1})])

    make().run()
    flaky["on"] = False
    early, late = make().prepare(resume=True), make().prepare(resume=True)
    assert len(list(early.iterate())) == 8
    with pytest.raises(StoreError, match="was resumed by another process after this resume"):
        list(late.iterate())
    (record,) = Store(store).runs("twice")
    assert (record.status, record.ok, record.resumes) == ("completed", 12, 1)
