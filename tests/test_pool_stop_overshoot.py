"""A stop rule on a worker pool: what runs past the stopping look stays a few replicates per
worker, though trivial replicates would otherwise go out in chunks of hundreds."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from cli_support import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


def test_until_decided_on_two_processes_keeps_the_overshoot_to_a_few_replicates(tmp_path):
    # The README's example: trivial sessions, decided after ~1,700 rounds of 3 conditions.
    shutil.copytree(EXAMPLES / "ab_checkout", tmp_path / "experiments" / "ab_checkout")
    done = cli(tmp_path, "run", "ab_checkout", "--until", "decided", "--max-replicates", "20000",
               "--backend", "processes", "-w", "2", "--json")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(tmp_path / ".crystallize" / "crystallize.db")
    ((status, stop),) = conn.execute("SELECT status, stop FROM runs").fetchall()
    stop = json.loads(stop)
    assert status == "stopped: decided" and stop["stopping_replicate"] < 20000
    # A worker holds at most 2 chunks of one round (3 replicates) it has not reported, so
    # 2 workers x 2 rounds x 3 = 12 (9 seen); twice that as a margin. Before chunks were
    # capped at a round this read 600-900.
    assert stop["finished_after"] <= 24, stop["finished_after"]
    (kept,) = conn.execute("SELECT COUNT(*) FROM replicates WHERE status = 'ok'").fetchone()
    assert kept == 3 * stop["stopping_replicate"] + stop["finished_after"]
