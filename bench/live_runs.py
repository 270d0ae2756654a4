"""A detached run and its watchers: how soon ``crystallize run --detach`` returns and the
first replicate starts, how soon a printed line reaches a watcher in another process, and
how soon a watcher attaching to a run with 100,000 finished replicates shows its state.

Each round, in a fresh workspace: the floor (``crystallize run --help``, a fresh interpreter
importing the command), then ``run NAME --detach`` of a trivial experiment whose step
prints the wall-clock time and waits for a file. Figures are medians over the rounds; the
ratios are against the floor of the same run. The big run is that trivial run's row made
to claim 100,000 replicates (committed rows written straight into the store, 2,000 kept
output lines) and to belong to this process, so it reads "running".
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "crystallize_tui.cli"]
STEP = '''
import time
from pathlib import Path

def step(config, ctx):
    print(f"t={time.time()!r}", flush=True)
    while (Path(__file__).parent / "hold").exists():
        time.sleep(0.005)
    ctx.metrics.add("x", 1)
'''


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}


def first_line(db: Path, deadline: float) -> tuple[float, float]:
    """(time the step printed, time this watcher read it from the store)."""
    while time.monotonic() < deadline:
        try:
            conn = sqlite3.connect(db, timeout=5)
            row = conn.execute("SELECT payload FROM events ORDER BY id LIMIT 1").fetchone()
            conn.close()
        except sqlite3.OperationalError:
            row = None
        if row:
            return float(json.loads(row[0])["text"].split("=")[1]), time.time()
        time.sleep(0.005)
    raise SystemExit("no line reached the store")


def one_round(root: Path) -> dict[str, float]:
    folder = root / "experiments" / "trivial"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text("pipeline: [steps:step]\nreplicates: 1\n")
    (folder / "steps.py").write_text(STEP)
    (folder / "hold").write_text("")
    start = time.perf_counter()
    subprocess.run([*COMMAND, "run", "--help"], cwd=root, env=env(), check=True,
                   stdout=subprocess.DEVNULL)
    floor = time.perf_counter() - start
    clicked = time.time()
    start = time.perf_counter()
    done = subprocess.run([*COMMAND, "run", "trivial", "--detach"], cwd=root, env=env(),
                          check=True, capture_output=True, text=True)
    returned = time.perf_counter() - start
    printed, read = first_line(root / ".crystallize" / "crystallize.db", time.monotonic() + 30)
    (folder / "hold").unlink()
    run_id = done.stdout.strip()
    subprocess.run([*COMMAND, "cancel", run_id], cwd=root, env=env(), capture_output=True)
    return {"floor: run --help": floor, "run --detach returns": returned,
            "first replicate started (its print)": printed - clicked,
            "printed line read by a watcher": read - printed}


BIG = 100_000


def big_run(root: Path) -> str:
    """A running run with BIG finished replicates in ``root``'s store; its run id."""
    folder = root / "experiments" / "trivial"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text("pipeline: [steps:step]\nreplicates: 1\n")
    (folder / "steps.py").write_text(STEP)
    subprocess.run([*COMMAND, "run", "trivial"], cwd=root, env=env(), check=True,
                   capture_output=True)
    conn = sqlite3.connect(root / ".crystallize" / "crystallize.db")
    (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
    now = time.time()
    with conn:
        conn.execute("UPDATE runs SET replicates = ?, status = 'running', pid = ?, "
                     "finished_at = NULL, started_at = ? WHERE run_id = ?",
                     (BIG * 2, os.getpid(), now - 600, run_id))
        conn.executemany(
            "INSERT INTO replicates (run_id, condition, replicate, seed, status, duration, "
            "finished_at) VALUES (?, 'baseline', ?, ?, ?, 0.001, ?)",
            ((run_id, k, k, "failed" if k % 1000 == 7 else "ok", now - 600 + k * 0.005)
             for k in range(1, BIG)))
        conn.executemany(
            "INSERT INTO events (run_id, condition, replicate, time, kind, payload) "
            "VALUES (?, 'baseline', ?, 0, 'output', ?)",
            ((run_id, k, json.dumps({"stream": "stdout", "text": f"line {k}"}))
             for k in range(BIG - 2000, BIG)))
    conn.close()
    return run_id


def attach_round(root: Path, run_id: str) -> dict[str, float]:
    """Attaching from Python and from the CLI to the big run; a poll with nothing new, and
    one after a replicate was committed (the per-condition counts are read again)."""
    from crystallize_tui.core.store.follow import RunFollower
    from crystallize_tui.core.store.store import Store

    db = root / ".crystallize" / "crystallize.db"
    start = time.perf_counter()
    store = Store(db)
    run = store.attach(run_id)
    progress = run.progress
    follower = RunFollower(store, run_id)
    follower.poll(last=20)
    attached = time.perf_counter() - start
    assert progress.done == BIG and progress.failed == BIG // 1000, progress
    start = time.perf_counter()
    follower.poll()
    idle = time.perf_counter() - start
    # What each poll read before it was made incremental: every count and every failure.
    start = time.perf_counter()
    store.condition_counts(run_id)
    store.failures(run_id)
    before = time.perf_counter() - start
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO replicates (run_id, condition, replicate, seed, status, "
                     "duration, finished_at) VALUES (?, 'baseline', ?, 0, 'ok', 0.001, ?)",
                     (run_id, BIG + len(follower.poll().counts), time.time()))
    conn.close()
    start = time.perf_counter()
    follower.poll()
    changed = time.perf_counter() - start
    start = time.perf_counter()
    watcher = subprocess.Popen([*COMMAND, "attach", run_id], cwd=root, env=env(),
                               stdout=subprocess.PIPE, text=True)
    for line in watcher.stdout:
        if line.startswith("progress:"):
            break
    shown = time.perf_counter() - start
    watcher.kill()
    watcher.wait()
    return {"attach 100k run from Python: state": attached,
            "crystallize attach 100k run: progress": shown,
            "poll of the 100k run, nothing new": idle,
            "  (each poll before: counts + failures)": before,
            "poll of the 100k run, 1 new replicate": changed}


CHATTY = '''
def step(config, ctx):
    for i in range(config["lines"]):
        print(f"replicate {ctx.replicate} line {i}")
    ctx.metrics.add("x", ctx.rng.random())
'''
CHATTY_REPLICATES, CHATTY_LINES = 4000, 20  # 80,000 output lines, as fast as the step prints


def watched_run(root: Path, watchers: int) -> float:
    """Seconds a detached run of CHATTY_REPLICATES printing replicates takes (its own
    started_at to finished_at in the store) while ``watchers`` `crystallize attach`
    processes follow it."""
    folder = root / "experiments" / "chatty"
    if not folder.exists():
        folder.mkdir(parents=True)
        (folder / "experiment.yaml").write_text(
            f"pipeline: [steps:step]\nreplicates: {CHATTY_REPLICATES}\n"
            f"datasource: {{lines: {CHATTY_LINES}}}\n")
        (folder / "steps.py").write_text(CHATTY)
        (folder / "hold").write_text("")
    done = subprocess.run([*COMMAND, "run", "chatty", "--detach"], cwd=root, env=env(),
                          check=True, capture_output=True, text=True)
    run_id = done.stdout.strip()
    procs = [subprocess.Popen([*COMMAND, "attach", run_id], cwd=root, env=env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(watchers)]
    for proc in procs:
        proc.wait(timeout=600)
    db = root / ".crystallize" / "crystallize.db"
    deadline = time.monotonic() + 600
    while True:
        conn = sqlite3.connect(db, timeout=5)
        started, finished = conn.execute("SELECT started_at, finished_at FROM runs WHERE "
                                         "run_id = ?", (run_id,)).fetchone()
        conn.close()
        if finished is not None:
            return float(finished) - float(started)
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not finish")
        time.sleep(0.1)


def watcher_rounds(rounds: int) -> None:
    """The run's own duration with 0, 1 and 3 watchers, interleaved; ratios to 0 watchers."""
    times: dict[int, list[float]] = {0: [], 1: [], 3: []}
    with tempfile.TemporaryDirectory(prefix="crystallize-watchers-bench-") as tmp:
        for _ in range(rounds):
            for n in times:
                times[n].append(watched_run(Path(tmp), n))
    alone = statistics.median(times[0])
    lines = CHATTY_REPLICATES * CHATTY_LINES
    print(f"\n{CHATTY_REPLICATES} replicates printing {lines:,} lines; the run's own duration")
    print(f"{'watchers':10} {'median s':>9} {'lines/s':>9} {'speed vs unwatched':>19}")
    for n, values in times.items():
        median = statistics.median(values)
        print(f"{n:<10} {median:9.3f} {lines / median:9.0f} {alone / median:19.2f}")


def ui_attach_round(root: Path, run_id: str) -> dict[str, float]:
    """The app's run screen attaching to the big run (one metric per replicate): from the
    screen pushed to its progress showing every finished replicate; then what the screen's
    tail reads when one more replicate finished, against reading every replicate again."""
    import asyncio

    from crystallize_tui.core.store.store import Store
    from crystallize_tui.tui.app import make_app
    from crystallize_tui.tui.screens.attached import COMMIT_LAG_S, AttachedRunScreen

    db = root / ".crystallize" / "crystallize.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO metrics (run_id, condition, replicate, seq, name, value, kind) "
            "VALUES (?, 'baseline', ?, 0, 'x', ?, 'f')",
            ((run_id, k, k * 0.5) for k in range(1, BIG)))
    conn.close()
    out: dict[str, float] = {}

    async def attach() -> None:
        app = make_app(root, db, watch=False)
        async with app.run_test(size=(160, 48)) as pilot:
            while app.discovery is None:
                await pilot.pause(0.01)
            experiment = next(f.experiment for f in app.discovery.experiments)
            start = time.perf_counter()
            screen = AttachedRunScreen(experiment, run_id)
            app.push_screen(screen)
            while not (screen.is_mounted and screen.query("#progress")
                       and screen.query_one("#progress").finished_count >= BIG - 1):
                await pilot.pause(0.005)
            out["UI attach 100k run: progress shown"] = time.perf_counter() - start
            app.pop_screen()

    asyncio.run(attach())
    store = Store(db)
    start = time.perf_counter()
    store.replicates(run_id)
    out["UI tail read before: every replicate"] = time.perf_counter() - start
    start = time.perf_counter()
    store.replicates(run_id, finished_since=time.time() - COMMIT_LAG_S)
    out["UI tail read now: recent replicates"] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--watchers-only", action="store_true",
                        help="only the run's speed with 0, 1 and 3 watchers")
    args = parser.parse_args()
    if args.watchers_only:
        watcher_rounds(max(1, args.rounds // 3))
        return
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="crystallize-live-bench-") as tmp:
            rounds.append(one_round(Path(tmp)))
        with tempfile.TemporaryDirectory(prefix="crystallize-attach-bench-") as tmp:
            big = big_run(Path(tmp))
            rounds[-1].update(attach_round(Path(tmp), big))
            rounds[-1].update(ui_attach_round(Path(tmp), big))
    floor = statistics.median(r["floor: run --help"] for r in rounds)
    print(f"{'measure':40} {'median s':>9} {'max s':>7} {'x floor':>8}")
    for key in rounds[-1]:
        values = [r[key] for r in rounds if key in r]
        median = statistics.median(values)
        print(f"{key:40} {median:9.4f} {max(values):7.4f} {median / floor:8.2f}")
    watcher_rounds(max(1, args.rounds // 3))


if __name__ == "__main__":
    main()
