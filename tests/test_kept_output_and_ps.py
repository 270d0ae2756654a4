"""The store keeps a run's newest output lines (and says how many earlier ones it did not
keep), and `crystallize ps` on a store shared by machines: the real command in subprocesses."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli_support import cli, write_experiment

YAML = """\
pipeline: [steps:chatty]
replicates: 6
treatments:
  t: {shift: 1}
"""

STEPS = '''
def chatty(config, ctx):
    for i in range(10):
        print(f"{ctx.treatment} {ctx.replicate}.{i}")
    ctx.metrics.add("x", ctx.replicate + config.get("shift", 0))
'''


def _db(root: Path) -> Path:
    return root / ".crystallize" / "crystallize.db"


def _run_ids(root: Path) -> list[str]:
    conn = sqlite3.connect(_db(root))
    try:
        return [r for (r,) in conn.execute("SELECT run_id FROM runs ORDER BY started_at")]
    finally:
        conn.close()


def test_logs_shows_the_last_lines_and_says_how_many_earlier_ones_were_not_kept(tmp_path):
    write_experiment(tmp_path, "chatty", YAML, {"steps.py": STEPS})
    ran = cli(tmp_path, "run", "chatty", env={"CRYSTALLIZE_MAX_OUTPUT_LINES": "25"})
    assert ran.returncode == 0, ran.stderr
    (run_id,) = _run_ids(tmp_path)
    logs = cli(tmp_path, "logs", run_id)
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    # 2 conditions x 6 replicates x 10 lines = 120 printed, the newest 25 kept.
    assert lines[0].startswith("… 95 earlier lines not kept"), lines[:2]
    printed = [line for line in lines[1:] if line.strip()]
    assert len(printed) == 25, printed
    assert "t 4.5" in printed[0] and "t 5.9" in printed[-1]
    assert not any("t 4.4" in line or "baseline 4." in line for line in printed)
    attached = cli(tmp_path, "attach", run_id)  # the run has ended: its state, then the end
    assert attached.returncode == 0, attached.stderr
    assert "… 95 earlier lines not kept" in attached.stdout


def test_a_run_under_the_bound_keeps_every_line_and_logs_has_no_note(tmp_path):
    write_experiment(tmp_path, "chatty", YAML, {"steps.py": STEPS})
    assert cli(tmp_path, "run", "chatty").returncode == 0
    (run_id,) = _run_ids(tmp_path)
    logs = cli(tmp_path, "logs", run_id)
    assert "not kept" not in logs.stdout
    assert len([line for line in logs.stdout.splitlines() if line.strip()]) == 120


def _gone_pid() -> int:
    """The pid of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_ps_does_not_guess_about_a_run_of_another_host(tmp_path):
    write_experiment(tmp_path, "chatty", YAML, {"steps.py": STEPS})
    for _ in range(2):
        assert cli(tmp_path, "run", "chatty").returncode == 0
    theirs, ours = _run_ids(tmp_path)
    gone = _gone_pid()
    # As if both were still running: one recorded by another machine sharing the store,
    # one by this machine whose process has gone (killed).
    conn = sqlite3.connect(_db(tmp_path))
    with conn:
        conn.execute("UPDATE runs SET status = 'running', finished_at = NULL, host = ?, "
                     "pid = ? WHERE run_id = ?", ("lab-node-7", gone, theirs))
        conn.execute("UPDATE runs SET status = 'running', finished_at = NULL, host = ?, "
                     "pid = ? WHERE run_id = ?", (socket.gethostname(), gone, ours))
    conn.close()
    ps = cli(tmp_path, "ps")
    assert ps.returncode == 0, ps.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in ps.stdout.splitlines()[1:]}
    assert rows[theirs][2] == "running (other host: not checked)"
    assert rows[theirs][-1] == "lab-node-7"
    assert rows[ours][2] == "interrupted"


def _loops(config, ctx):
    print("before")
    circular: list = []
    circular.append(circular)
    ctx.emit("loop", data=circular)
    print("after")
    ctx.metrics.add("x", 1)


def test_an_event_whose_data_cannot_be_stored_keeps_its_line_and_the_log_goes_on(tmp_path):
    from crystallize_tui import Experiment, Store

    db = tmp_path / "s.db"
    result = Experiment(name="loops", pipeline=[_loops], replicates=2, store=db).run(echo=False)
    assert result.status == "completed"
    kept = Store(db).events(result.run_id)
    assert [e.get("text", e.get("event")) for e in kept] == ["before", "loop", "after"] * 2
    assert kept[1]["data"] == "<not storable: ValueError: Circular reference detected>"
