"""How long the TUI's debug waits on its child process: spawn to the first message (the
config it runs with: the "starting…" the screen shows) and to the replicate's result.

Each round starts, in random order, a bare interpreter (the floor: ``python -c pass``) and a
debug child (``python -X faulthandler -m crystallize_tui.commands.debug_child``) on a
one-step experiment in a temporary workspace. Medians over the rounds; ratios against the
floor of the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from crystallize_tui.commands.debug_child import child_args
from crystallize_tui.core.child import ChildProcess

STEP = """
def play(config, ctx):
    print("one turn")
    ctx.metrics.add("win", int(ctx.rng.random() < config["p"]))
"""
YAML = """
pipeline: [game:play]
datasource: {p: 0.5}
replicates: 4
treatments:
  biased: {p: 0.8}
"""


def floor() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def debug_child(root: Path) -> tuple[float, float]:
    """Seconds to the child's first message and to its result."""
    start = time.perf_counter()
    child = ChildProcess.spawn(child_args(root, root / "store.db", "coin", "biased", 2),
                               log_path=root / "child.log")
    first = done = None
    for item in child.messages():
        first = first or time.perf_counter() - start
        if isinstance(item, tuple) and item[0] == "done":
            done = time.perf_counter() - start
    child.wait()
    assert first is not None and done is not None, child.log_tail()
    return first, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crystallize-bench-debug-") as tmp:
        root = Path(tmp)
        (root / "experiments" / "coin").mkdir(parents=True)
        (root / "experiments" / "coin" / "game.py").write_text(textwrap.dedent(STEP))
        (root / "experiments" / "coin" / "experiment.yaml").write_text(textwrap.dedent(YAML))
        times: dict[str, list[float]] = {"python -c pass (floor)": [], "debug: first message": [],
                                         "debug: result": []}
        for _ in range(args.rounds):
            cases = ["floor", "debug"]
            random.shuffle(cases)  # interleaved: the machine's mood hits both alike
            for case in cases:
                if case == "floor":
                    times["python -c pass (floor)"].append(floor())
                else:
                    first, done = debug_child(root)
                    times["debug: first message"].append(first)
                    times["debug: result"].append(done)
    base = statistics.median(times["python -c pass (floor)"])
    print(f"{args.rounds} rounds, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}; "
          "median seconds; x floor")
    print(f"{'what':<26}{'median s':>10}{'min s':>8}{'x floor':>9}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<26}{median:>10.3f}{min(values):>8.3f}{median / base:>9.2f}")


if __name__ == "__main__":
    main()
