"""A detached run and its watchers: how soon ``crystallize run --detach`` returns and the
first replicate starts, and how soon a printed line reaches a watcher in another process.

Each round, in a fresh workspace: the floor (``crystallize run --help``, a fresh interpreter
importing the command), then ``run NAME --detach`` of a trivial experiment whose step
prints the wall-clock time and waits for a file. Figures are medians over the rounds; the
ratios are against the floor of the same run.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="crystallize-live-bench-") as tmp:
            rounds.append(one_round(Path(tmp)))
    floor = statistics.median(r["floor: run --help"] for r in rounds)
    print(f"{'measure':40} {'median s':>9} {'max s':>7} {'x floor':>8}")
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        median = statistics.median(values)
        print(f"{key:40} {median:9.3f} {max(values):7.3f} {median / floor:8.2f}")


if __name__ == "__main__":
    main()
