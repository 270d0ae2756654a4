"""A store file deleted after a run's last replicate was committed, before the run ended,
is reported like one deleted mid-run (exit 2, never "stored in"): CLI and Python API."""

import os
import subprocess
import sys
import textwrap

import pytest

from crystallize_tui import Experiment, ReplicateFinished, RunCancelled, RunFinished, StoreError

# The step of baseline #0 leaves a thread in its worker process that deletes the store as
# soon as every replicate of the run is committed. A worker process exits only when its
# threads are done and the run ends only after its workers exited, so the deletion falls
# between the last replicate's commit and the end of the run.
STEPS = """
import os, sqlite3, threading, time


def _delete_when_all_stored(store, run_id, expected):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
            (n,) = conn.execute("SELECT COUNT(*) FROM replicates WHERE run_id = ?",
                                (run_id,)).fetchone()
            conn.close()
        except sqlite3.Error:
            n = 0
        if n == expected:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(store + suffix):
                    os.remove(store + suffix)
            return
        time.sleep(0.005)


def step(config, ctx):
    ctx.metrics.add("x", ctx.rng.random())
    if config["delete"] and (ctx.treatment, ctx.replicate) == ("baseline", 0):
        threading.Thread(target=_delete_when_all_stored,
                         args=(os.environ["STORE"], ctx.run_id, config["expected"])).start()
"""


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "experiments" / "late"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(
        "pipeline: [steps:step]\ndatasource: {delete: false, expected: 8}\nreplicates: 4\n"
        "treatments:\n  t: {}\nplugins:\n  parallel: {max_workers: 2}\n")
    (folder / "steps.py").write_text(textwrap.dedent(STEPS))
    return tmp_path


def cli(root, *args, env):
    base = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    return subprocess.run([sys.executable, "-m", "crystallize_tui.cli", *args], cwd=root,
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_a_store_deleted_after_the_last_commit_is_reported_not_claimed_as_stored(workspace):
    store = workspace / "late.db"
    out = cli(workspace, "run", "late", "--store", str(store), "--set", "delete=true",
              env={"STORE": str(store)})
    assert not store.exists()  # the premise: the thread deleted it
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.splitlines()[-1] == (
        f"crystallize: error: store {store}: the file was deleted as run "
        f"{out.stdout.split('run ', 1)[1].split(':', 1)[0]} ended, after its replicates were "
        "recorded; they are gone with it — run it again to record it")
    assert "Traceback" not in out.stderr and "Warning" not in out.stderr
    assert "stored in" not in out.stdout


def test_the_same_run_without_the_deletion_is_stored(workspace):
    store = workspace / "kept.db"
    out = cli(workspace, "run", "late", "--store", str(store), env={"STORE": str(store)})
    assert out.returncode == 0, out.stderr
    assert f"(completed) stored in {store}" in out.stdout


def test_a_subscriber_deleting_the_store_on_the_last_finished_replicate(tmp_path):
    db = tmp_path / "api.db"
    seen: list = []

    def delete_after_last(event):
        seen.append(event)
        finished = [e for e in seen if isinstance(e, ReplicateFinished)]
        if isinstance(event, ReplicateFinished) and len(finished) == 6:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(f"{db}{suffix}"):
                    os.remove(f"{db}{suffix}")

    def step(config, ctx):
        ctx.metrics.add("x", ctx.replicate)

    exp = Experiment(name="api", pipeline=[step], replicates=6, store=db)
    with pytest.raises(StoreError, match="was deleted as run .* ended"):
        exp.run(subscribers=[delete_after_last])
    ends = [e for e in seen if isinstance(e, (RunFinished, RunCancelled))]
    assert [(type(e).__name__, e.status) for e in ends] == [("RunFinished", "failed")]
    assert exp.last_result is not None and exp.last_result.status == "failed"
