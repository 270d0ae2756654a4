"""A stop rule on the process pool: what runs past the stopping look, and what the rule costs.

Run: ``python bench/pool_stop.py`` (``--rounds N`` interleaved rounds, default 3; ``--cap N``
replicates per condition for the timed rows, default 5,000).

Uses the README's example ``experiments/ab_checkout`` (trivial replicates: one simulated
session each, three conditions) through the real command, in a temporary workspace:

- overshoot: ``crystallize run ab_checkout --until decided --max-replicates 20000 --backend
  processes -w 2``: the stopping replicate and ``finished_after`` (replicates kept beyond
  the stopping look), as stored.
- time: ``--until width=0.0001 --max-replicates CAP`` (never holds: the run goes to the cap,
  so every row does the same work) on serial and on processes x2, wall seconds, medians of
  interleaved rounds. With a rule, the run's own work per result (feeding the rule, the
  store) bounds the speed, so the pool's chunks of one round cost little over serial.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "experiments" / "ab_checkout"


def crystallize(root: Path, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "crystallize_tui.cli", "run", "ab_checkout", *args,
                           "--json"], cwd=root, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cap", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crystallize-pool-stop-") as tmp:
        root = Path(tmp)
        shutil.copytree(EXAMPLE, root / "experiments" / "ab_checkout",
                        ignore=shutil.ignore_patterns("__pycache__"))
        after: list[int] = []
        stops: list[int] = []
        timed: dict[str, list[float]] = {"serial": [], "processes x2": []}
        for _ in range(args.rounds):
            _, out = crystallize(root, "--until", "decided", "--max-replicates", "20000",
                                 "--backend", "processes", "-w", "2")
            stops.append(out["stop"]["stopping_replicate"])
            after.append(out["stop"]["finished_after"])
            for row, backend in (("serial", ("--backend", "serial")),
                                 ("processes x2", ("--backend", "processes", "-w", "2"))):
                seconds, _ = crystallize(root, "--until", "width=0.0001", "--max-replicates",
                                         str(args.cap), *backend)
                timed[row].append(seconds)
    print(f"--until decided on processes x2, {args.rounds} runs: stopped at {stops}, "
          f"finished after the stop {after}")
    print(f"to the cap of {args.cap} x 3 replicates (rule never holds), median of {args.rounds}:")
    for row, seconds in timed.items():
        median = statistics.median(seconds)
        print(f"  {row:<14} {median:6.2f} s  {1e6 * median / (3 * args.cap):6.1f} us/replicate")


if __name__ == "__main__":
    main()
