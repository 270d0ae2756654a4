"""The wait at the end of ``crystallize run``: from the last replicate's progress line to
the printed statistics table and the prompt, in fresh processes.

The statistics need scipy (about a second to import); the command imports it in the
background while the run goes on. Three figures, interleaved over the rounds: the tail of a
run of a few seconds (the import is done by its end), the tail of a run shorter than the
import (what is left of the import shows), and the import itself in a fresh process (the
floor the background import hides).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

STEP = """
import time

def play(config, ctx):
    time.sleep(config["delay"])
    ctx.metrics.add("score", ctx.rng.gauss(config["mu"], 1))
    ctx.metrics.add("win", int(ctx.rng.random() < 0.5))
"""

YAML = """
pipeline: [step:play]
datasource: {delay: 0.1, mu: 0}
replicates: 10
treatments:
  better: {mu: 0.5}
  worse: {mu: -0.5}
"""

IMPORT = ("import crystallize_tui.stats, crystallize_tui.render.tables, "
          "crystallize_tui.core.compare")


def workspace(base: Path) -> Path:
    folder = base / "experiments" / "tail"
    folder.mkdir(parents=True)
    (folder / "step.py").write_text(textwrap.dedent(STEP))
    (folder / "experiment.yaml").write_text(textwrap.dedent(YAML))
    return base


def tail(root: Path, *options: str) -> float:
    """Seconds from the last "N/N done" line to the end of the output (the table comes
    last; into a pipe it arrives when the process flushes and exits)."""
    proc = subprocess.Popen([sys.executable, "-m", "crystallize_tui.cli", "run", "tail", *options],
                            cwd=root, stdout=subprocess.PIPE, text=True)
    last_done = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if " done" in line:
            last_done = time.perf_counter()
    proc.wait()
    end = time.perf_counter()
    if proc.returncode not in (0, 1) or last_done is None:
        raise SystemExit(f"run failed with exit {proc.returncode}")
    return end - last_done


def import_time(root: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORT], cwd=root, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crystallize-tail-") as tmp:
        root = workspace(Path(tmp))
        cases = {
            "tail, run of ~3 s": lambda: tail(root),
            "tail, run of ~0.1 s": lambda: tail(root, "--set", "delay=0", "-n", "5"),
            "statistics import (fresh)": lambda: import_time(root),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            order = list(cases)
            random.shuffle(order)
            for name in order:
                times[name].append(cases[name]())
    floor = statistics.median(times["statistics import (fresh)"])
    print(f"{args.rounds} rounds, fresh process each; median seconds; x the statistics import")
    print(f"{'case':<28}{'median s':>10}{'max s':>8}{'x import':>10}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{max(values):>8.3f}{median / floor:>10.2f}")


if __name__ == "__main__":
    main()
