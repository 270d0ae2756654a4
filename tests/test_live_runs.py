"""A run in its own process (`crystallize run --detach`) and the commands that read it live
from another process: ps, attach, logs, cancel; a run process killed with -9, then resumed."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli, start_cli, stored_replicates, write_experiment

YAML = """\
pipeline: [steps:work]
replicates: 8
treatments:
  fast: {shift: 1}
"""

# Replicates 3 and later wait while the file "hold" beside the step exists: a test decides
# when the run may go on, rather than racing a timer. Every replicate prints one line.
STEPS = '''
import os
import time
from pathlib import Path

HOLD = Path(__file__).parent / "hold"

def work(config, ctx):
    print(f"line of {ctx.replicate}")
    if ctx.replicate >= 3:
        while HOLD.exists():
            time.sleep(0.02)
    time.sleep(float(os.environ.get("PAUSE", "0")))
    ctx.metrics.add("x", ctx.rng.random() + config.get("shift", 0))
'''

WAIT_S = 30  # a bound that only turns a hang into a failure


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    folder = write_experiment(tmp_path, "slow", YAML, {"steps.py": STEPS})
    (folder / "hold").write_text("")
    yield tmp_path
    # A failed test must not leave a run process waiting on its hold file forever (its
    # watchers end with it).
    (folder / "hold").unlink(missing_ok=True)
    if db(tmp_path).exists():
        for (pid,) in query(tmp_path, "SELECT pid FROM runs WHERE status = 'running'"):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)


def db(root: Path) -> Path:
    return root / ".crystallize" / "crystallize.db"


def query(root: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db(root), timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def stored(root: Path, run_id: str) -> int:
    return query(root, "SELECT COUNT(*) FROM replicates WHERE run_id = ?", run_id)[0][0]


def run_pid(root: Path, run_id: str) -> int:
    return query(root, "SELECT pid FROM runs WHERE run_id = ?", run_id)[0][0]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def detach(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = cli(root, "run", "slow", "--detach", *args, env=env)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert run_id and "\n" not in run_id  # stdout is the run id alone, for $(...)
    assert f"crystallize attach {run_id}" in done.stderr
    return run_id


def read_until(proc: subprocess.Popen[str], text: str) -> list[str]:
    """Lines of ``proc``'s stdout up to and including the first one containing ``text``
    (a reader thread, so that a line that never comes fails the test instead of hanging it)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
            if text in line:
                return
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError(f"{text!r} not printed in {WAIT_S}s; got {seen}") from None
        if line is None:
            raise AssertionError(f"{text!r} never printed; got {seen}")
        seen.append(line)
        if text in line:
            return seen


def test_detached_run_outlives_its_watchers_and_attach_ends_with_its_outcome(workspace):
    run_id = detach(workspace)
    pid = run_pid(workspace, run_id)
    # The command has returned; the run goes on in a session of its own (no SIGHUP when
    # the terminal that started it closes).
    assert os.getsid(pid) == pid != os.getsid(0)
    wait_for(lambda: stored(workspace, run_id) == 6, "replicates 0-2 of both conditions")

    ps = cli(workspace, "ps")
    assert ps.returncode == 0
    row = next(line for line in ps.stdout.splitlines() if line.startswith(run_id))
    assert "slow\trunning\tbaseline 3/8 · fast 3/8\t" in row and f"\t{pid}\t" in row
    elapsed, eta = row.split("\t")[4:6]  # from the progress reducer: m:ss, and an estimate
    assert elapsed.startswith("0:") and eta.startswith("0:")

    watcher = start_cli(workspace, "attach", run_id)
    # Printed by a replicate that has not finished (it waits on the hold file): output
    # reaches a watcher while the step still runs, not only when its replicate is committed.
    seen = read_until(watcher, "[baseline #3] line of 3")
    assert seen[0] == f"run {run_id}: running (process {pid} on {os.uname().nodename})"
    # The one progress reducer's figures: per condition, elapsed, and an ETA once the run
    # finished replicates of every condition.
    assert seen[1].startswith("progress: baseline 3/8 · fast 3/8 · elapsed 0:")
    assert " · ETA " in seen[1] and not seen[1].endswith("ETA —")
    watcher.kill()  # the watcher dies; the run does not notice
    watcher.communicate()
    assert alive(pid)

    interrupted = start_cli(workspace, "attach", run_id)
    read_until(interrupted, "[baseline #3] line of 3")
    interrupted.send_signal(signal.SIGINT)  # Ctrl-C detaches the watcher only
    _, err = interrupted.communicate(timeout=WAIT_S)
    assert interrupted.returncode == 0
    assert err.strip() == (f"detached: run {run_id} goes on; attach again with "
                           f"`crystallize attach {run_id}`")
    assert alive(pid)

    again = start_cli(workspace, "attach", run_id)
    assert read_until(again, "[baseline #0] line of 0")[1].startswith(
        "progress: baseline 3/8 · fast 3/8 · elapsed ")
    (workspace / "experiments" / "slow" / "hold").unlink()  # let the run go on
    out, err = again.communicate(timeout=WAIT_S)
    assert again.returncode == 0, err
    assert "[fast #7] line of 7" in out
    assert out.splitlines()[-1] == (f"run {run_id} completed: 16 replicate(s) ok, 0 failed "
                                    "(baseline 8/8 · fast 8/8)")
    wait_for(lambda: not alive(pid), "the run process to exit")

    logs = cli(workspace, "logs", run_id)
    assert logs.returncode == 0
    assert len([line for line in logs.stdout.splitlines() if "line of" in line]) == 16
    assert "no live runs" in cli(workspace, "ps").stdout


def test_cancel_from_another_process_stops_the_run_and_keeps_finished_replicates(workspace):
    (workspace / "experiments" / "slow" / "hold").unlink()
    run_id = detach(workspace, "-n", "500", env={"PAUSE": "0.05"})
    watcher = start_cli(workspace, "attach", run_id)
    wait_for(lambda: stored(workspace, run_id) >= 4, "four finished replicates")

    done = cli(workspace, "cancel", run_id)
    assert done.returncode == 0, done.stderr
    assert "cancel requested" in done.stderr
    assert done.stdout.startswith(f"run {run_id} cancelled: ")

    out, _ = watcher.communicate(timeout=WAIT_S)
    assert watcher.returncode == 130
    assert f"run {run_id} cancelled: " in out.splitlines()[-1]
    status, = query(workspace, "SELECT status FROM runs WHERE run_id = ?", run_id)[0]
    kept = stored(workspace, run_id)
    assert status == "cancelled" and 4 <= kept < 1000
    again = cli(workspace, "cancel", run_id)
    assert again.returncode == 0 and "is not running (cancelled)" in again.stdout


def test_a_killed_run_process_reads_interrupted_and_resumes_to_the_same_metrics(workspace):
    run_id = detach(workspace)
    pid = run_pid(workspace, run_id)
    wait_for(lambda: stored(workspace, run_id) == 6, "replicates 0-2 of both conditions")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "the killed process to go")

    ps = cli(workspace, "ps")
    assert f"{run_id}\tslow\tinterrupted\tbaseline 3/8 · fast 3/8" in ps.stdout
    show = cli(workspace, "show", run_id)
    assert f"run {run_id} (interrupted)" in show.stdout
    attach = cli(workspace, "attach", run_id)
    assert attach.returncode == 1
    assert attach.stdout.splitlines()[-1].startswith(f"run {run_id} interrupted: 6 replicate")

    (workspace / "experiments" / "slow" / "hold").unlink()
    resumed = cli(workspace, "run", "slow", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    whole = cli(workspace, "run", "slow")
    assert whole.returncode == 0, whole.stderr
    runs = [r for (r,) in query(workspace, "SELECT run_id FROM runs ORDER BY started_at")]
    assert runs[0] == run_id and len(runs) == 2

    def metrics(rid: str) -> list[tuple]:
        return query(workspace, "SELECT condition, replicate, name, value FROM metrics "
                     "WHERE run_id = ? ORDER BY condition, replicate, seq", rid)

    assert len(metrics(run_id)) == 16
    assert metrics(run_id) == metrics(runs[1])


def test_a_run_that_fails_to_start_says_why_and_where(workspace):
    done = cli(workspace, "run", "nosuch", "--detach")
    assert done.returncode == 2
    assert "no experiment named 'nosuch'" in done.stderr
    assert "the run process exited (2) before recording run" in done.stderr


def test_attach_logs_and_cancel_name_an_unknown_run(workspace):
    detach_id = "20990101-000000-abcdef"
    for command in ("attach", "logs", "cancel"):
        done = cli(workspace, command, detach_id)
        assert done.returncode == 2
        assert done.stderr.strip().endswith(f"no run {detach_id!r}") or \
            "no such file" in done.stderr


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="fork is the default only where the platform has it")
def test_the_cancel_poller_does_not_turn_forked_workers_into_spawned_ones(tmp_path):
    # The run process polls for `crystallize cancel` in a thread; workers must still fork
    # (a spawned worker is slower to start and needs an import guard in scripts).
    write_experiment(tmp_path, "pool", "pipeline: [steps:work]\nreplicates: 2\n", {"steps.py": '''
import multiprocessing

def work(config, ctx):
    print("worker", type(multiprocessing.current_process()).__name__)
    ctx.metrics.add("x", 1)
'''})
    done = cli(tmp_path, "run", "pool", "-w", "2", "-v")
    assert done.returncode == 0, done.stderr
    assert "worker ForkProcess" in done.stdout and "SpawnProcess" not in done.stdout


def test_a_store_of_the_previous_schema_gains_the_cancel_flag_and_keeps_its_runs(tmp_path):
    from crystallize_tui.core.store import schema

    store_file = tmp_path / ".crystallize" / "crystallize.db"
    store_file.parent.mkdir(parents=True)
    conn = sqlite3.connect(store_file, isolation_level=None)
    for statement in schema.MIGRATIONS[1]:  # a store written before issue 10
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('app', 'crystallize'), ('schema_version', '1')")
    conn.execute("INSERT INTO runs (run_id, experiment, status, started_at, finished_at, "
                 "base_seed, replicates, conditions, configs, fingerprint, fingerprint_parts, "
                 "versions) VALUES ('old-run', 'slow', 'completed', 1.0, 2.0, 0, 1, "
                 "'[\"baseline\"]', '{}', 'f', '{}', '{}')")
    conn.close()
    write_experiment(tmp_path, "slow", YAML, {"steps.py": STEPS})

    done = cli(tmp_path, "cancel", "old-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "run old-run is not running (completed); nothing to cancel"
    columns = [row[1] for row in query(tmp_path, "PRAGMA table_info(runs)")]
    assert "cancel_requested" in columns
    assert query(tmp_path, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(schema.SCHEMA_VERSION),)]  # the newest
    assert "old-run" in cli(tmp_path, "history", "slow").stdout


def test_a_killed_run_process_not_yet_reaped_by_its_parent_reads_interrupted(workspace):
    # This test is the run process's parent and does not wait() for it yet: the killed
    # process stays a zombie, which still answers kill(pid, 0).
    run = start_cli(workspace, "run", "slow")
    # stored_replicates: 0 while the file exists but its tables are not made yet
    wait_for(lambda: stored_replicates(db(workspace)) == 6, "six replicates")
    run.kill()
    wait_for(lambda: Path(f"/proc/{run.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
             == "Z", "the killed process to be a zombie")
    ps = cli(workspace, "ps")
    assert "\tslow\tinterrupted\tbaseline 3/8 · fast 3/8\t" in ps.stdout
    run.communicate()


def test_attach_exits_1_for_failed_replicates_and_logs_puts_each_failure_after_its_output(
        tmp_path):
    write_experiment(tmp_path, "flaky", "pipeline: [steps:work]\nreplicates: 3\n", {"steps.py": '''
def work(config, ctx):
    print(f"hello {ctx.replicate}")
    if ctx.replicate == 1:
        raise ValueError("bad luck")
    ctx.metrics.add("x", 1)
'''})
    done = cli(tmp_path, "run", "flaky", "--detach")
    run_id = done.stdout.strip()
    attach = cli(tmp_path, "attach", run_id)
    assert attach.returncode == 1
    assert attach.stdout.splitlines()[-1] == (f"run {run_id} failed: 2 replicate(s) ok, "
                                              "1 failed (baseline 3/3 (1 failed))")
    logs = cli(tmp_path, "logs", run_id)
    assert logs.stdout.splitlines() == [
        "[baseline #0] hello 0", "[baseline #1] hello 1",
        "[baseline #1] ✗ failed: ValueError: bad luck", "[baseline #2] hello 2"]
