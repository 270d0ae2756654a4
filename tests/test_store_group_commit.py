"""Group commits: finished replicates are committed together, yet nothing is announced
before it is committed, so a kill -9 loses nothing anyone heard of (real run processes,
real SQLite files, SIGKILL at random points, then resume)."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from announce_child import build

from crystallize_tui import Store

HERE = Path(__file__).parent
WAIT = 60  # only a hang reaches it


def _announced(path: Path) -> set[tuple[str, int]]:
    if not path.exists():
        return set()
    pairs = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:  # a line cut by the kill was not announced yet
            pairs.add((parts[0], int(parts[1])))
    return pairs


def _stored(db: Path) -> set[tuple[str, int]]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return {(c, r) for c, r in conn.execute("SELECT condition, replicate FROM replicates")}
    finally:
        conn.close()


def _child(db: Path, announced: Path, replicates: int, ms: float, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "announce_child.py"), str(db), str(announced),
         str(replicates), str(ms), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=db.parent,
    )


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_kill_9_at_random_points_loses_nothing_announced_and_resume_matches(tmp_path):
    db, announced = tmp_path / "runs.db", tmp_path / "announced.txt"
    replicates, ms = 150, 3.0  # 300 replicates of 0–3 ms: groups of many
    total = 2 * replicates
    rng = random.Random(2026)
    kills = 0
    for attempt in range(5):
        before = len(_announced(announced))
        child = _child(db, announced, replicates, ms, *(["resume"] if attempt else []))
        # Kill once a random number more replicates were announced, after a random delay
        # (often mid-group, sometimes mid-commit).
        target = before + rng.randint(1, 40)
        _wait_for(lambda t=target, c=child: len(_announced(announced)) >= t or c.poll() is not None,
                  "announcements")
        time.sleep(rng.random() * 0.03)
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.returncode == -signal.SIGKILL:
            kills += 1
        heard, stored = _announced(announced), _stored(db)
        assert heard <= stored, f"announced but not committed: {sorted(heard - stored)[:5]}"
        if len(stored) == total:
            break
    assert kills >= 3, "the run ended before it could be killed: make it longer"

    (record,) = Store(db).runs("announced")
    finish = _child(db, announced, replicates, ms, "resume")
    out, err = finish.communicate(timeout=WAIT)
    assert finish.returncode == 0, err
    assert out.split()[0] == "completed"
    assert _announced(announced) <= _stored(db)
    resumed = Store(db).load(record.run_id)
    assert resumed.status == "completed" and len(resumed.replicate_results) == total

    uninterrupted = build(tmp_path / "other.db", replicates, 0.0).run(echo=False)
    for condition in ("baseline", "t"):
        assert resumed.metrics[condition].metrics == uninterrupted.metrics[condition].metrics


def test_fast_replicates_are_committed_in_groups(tmp_path):
    """Many replicates share one transaction: their commit time is the group's."""
    db = tmp_path / "runs.db"
    result = build(db, 400, 0.0).run(echo=False)
    conn = sqlite3.connect(db)
    try:
        (rows, commits), = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT finished_at) FROM replicates WHERE run_id = ?",
            (result.run_id,))
    finally:
        conn.close()
    assert rows == 800
    assert commits <= rows // 10, f"{commits} commits for {rows} replicates"


def test_a_replicate_before_a_long_one_reaches_watchers_and_subscribers_meanwhile(tmp_path):
    """Replicate 0 is fast, replicate 1 waits for a file: replicate 0 is committed (another
    process sees it) and announced to the run's own subscriber while 1 still runs."""
    db, announced, gate = tmp_path / "runs.db", tmp_path / "announced.txt", tmp_path / "go"
    child = _child(db, announced, 3, 0.0, f"gate={gate}")
    try:
        # Replicate 0 of both conditions, then the baseline's replicate 1 waits.
        _wait_for(lambda: ("t", 0) in _announced(announced), "replicate 0 announced")
        assert _stored(db) == {("baseline", 0), ("t", 0)}
        (record,) = Store(db).runs("announced")
        assert record.status == "running" and record.ok == 2  # replicate 1 is still going
    finally:
        gate.touch()
        out, err = child.communicate(timeout=WAIT)
    assert child.returncode == 0, err
    assert len(_stored(db)) == 6 and _announced(announced) == _stored(db)


def _chatty(config, ctx):
    print(f"replicate {ctx.replicate}")
    if ctx.replicate % 7 == 3:
        time.sleep(0.06)  # longer than the window: its group is committed at once
    ctx.emit("tick", k=ctx.replicate)
    ctx.metrics.add("x", ctx.rng.random())


def test_subscribers_hear_the_same_events_in_the_same_order_each_after_its_commit(tmp_path):
    from crystallize_tui import Experiment, ReplicateFinished, Treatment

    db = tmp_path / "runs.db"
    heard: list[tuple[str, str | None, int | None]] = []
    late: list[tuple[str, int]] = []

    def listen(event):
        # Called in the run's thread, or in the store's committer thread when a commit
        # there frees held events: a connection of its own each time.
        heard.append((type(event).__name__, event.treatment, event.replicate))
        if isinstance(event, ReplicateFinished):
            reader = sqlite3.connect(db, timeout=5)
            try:
                stored = reader.execute(
                    "SELECT COUNT(*) FROM replicates WHERE condition = ? AND replicate = ?",
                    (event.treatment, event.replicate)).fetchone()[0]
            finally:
                reader.close()
            if not stored:
                late.append((event.treatment, event.replicate))

    def experiment(store):
        return Experiment(name="ordered", pipeline=[_chatty], replicates=30, seed=3,
                          treatments=[Treatment("t", {"a": 1})], store=store)

    experiment(db).run(echo=False, subscribers=[listen])
    assert late == []  # every replicate was in the store when its end was heard
    grouped, heard[:] = list(heard), []
    experiment(None).run(echo=False, subscribers=[listen])  # nothing to wait for
    assert grouped == heard
    assert sum(name == "ReplicateFinished" for name, _, _ in grouped) == 60
