"""Cold start of ``crystallize --help``: fresh processes, against Python's own start-up.

Each round starts, in random order, a bare interpreter (the floor: ``python -c pass``), the
help of the command and of ``crystallize run``, and a fresh import of the engine (what the
help used to load). Medians over the rounds; the ratio is against the floor of the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "crystallize --help": [sys.executable, "-m", "crystallize_tui.cli", "--help"],
    "crystallize run --help": [sys.executable, "-m", "crystallize_tui.cli", "run", "--help"],
    "import the engine": [sys.executable, "-c", "from crystallize_tui import Experiment"],
}
# The installed entry-point script, as a user types it (same folder as this interpreter).
SCRIPT = Path(sys.executable).with_name("crystallize")
if SCRIPT.exists():
    CASES["crystallize --help (script)"] = [str(SCRIPT), "--help"]


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        order = list(CASES)
        random.shuffle(order)  # interleaved: the machine's mood hits every case alike
        for name in order:
            times[name].append(wall(CASES[name]))
    floor = statistics.median(times["python -c pass (floor)"])
    print(f"{args.rounds} rounds, fresh process each; median seconds; x floor")
    print(f"{'command':<28}{'median s':>10}{'min s':>8}{'x floor':>9}{'over floor s':>14}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{min(values):>8.3f}{median / floor:>9.2f}"
              f"{median - floor:>14.3f}")


if __name__ == "__main__":
    main()
