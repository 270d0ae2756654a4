"""Start-up figures for bench/tui.py; run as ``tui_startup.py ROOT N`` it is the fresh-process child."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SMALL_STEP = '''"""A small step, as a typical experiment module."""


def run(config, ctx):
    hits = sum(ctx.rng.random() < config["p"] for _ in range(config["n"]))
    ctx.metrics.add("hits", hits)
'''

SMALL_YAML = """# Generated for the start-up benchmark.
name: {name}
description: Experiment {k} of group {g}
pipeline: [step:run]
datasource: {{p: 0.1, n: 20}}
replicates: 30
seed: {k}
treatments:
  higher: {{p: 0.2}}
  lower: {{p: 0.05}}
hypotheses:
  - {{metric: hits, direction: greater}}
"""


def many_workspace(base: Path, n: int, groups: int = 5) -> Path:
    """``n`` small experiments in nested folders: experiments/group_g/exp_k/."""
    root = Path(tempfile.mkdtemp(prefix="start-", dir=base))
    for k in range(n):
        g = k % groups
        folder = root / "experiments" / f"group_{g}" / f"exp_{k:02d}"
        folder.mkdir(parents=True)
        (folder / "step.py").write_text(SMALL_STEP)
        (folder / "experiment.yaml").write_text(SMALL_YAML.format(name=f"exp_{k:02d}", k=k, g=g))
    return root


def _experiment_count(app: Any) -> int:
    try:
        tree = app.screen.query_one("#experiments")
    except Exception:  # the home screen is not mounted yet
        return 0
    count, stack = 0, list(tree.root.children)
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        count += bool(node.data and node.data[0] == "experiment")
    return count


async def _startup(root: Path, n: int) -> float:
    # Imported here so that the fresh-process child pays for it inside its timed span.
    from crystallize_tui.tui.app import make_app

    start = time.perf_counter()
    app = make_app(root, root / ".bench.db", watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        while _experiment_count(app) < n:
            await pilot.pause(0.01)
        return time.perf_counter() - start


def subprocess_time(cmd: list[str], repeat: int, until_line: bool = False) -> float:
    """Best wall time of a fresh process, to exit or (``until_line``) to its first line."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, cwd=ROOT)
        if until_line:
            line = proc.stdout.readline()
            elapsed = time.perf_counter() - start
            proc.wait()
            if not line.startswith("ready"):
                raise RuntimeError(f"start-up child failed: {line!r}")
        else:
            proc.communicate()
            elapsed = time.perf_counter() - start
        best = min(best, elapsed)
    return best


def startup(base: Path, n: int, repeat: int) -> dict[str, float]:
    """Best of ``repeat`` for each figure, in seconds."""
    python, cli = sys.executable, str(Path(sys.executable).with_name("crystallize"))
    shared = many_workspace(base, n)
    return {
        # A fresh workspace each time: its modules are then not yet imported in this process.
        "in_process_s": min(asyncio.run(_startup(many_workspace(base, n), n))
                            for _ in range(repeat)),
        "fresh_process_s": subprocess_time([python, __file__, str(shared), str(n)], repeat,
                                           until_line=True),
        "import_crystallize_tui_s": subprocess_time([python, "-c", "import crystallize_tui"], repeat),
        "import_tui_app_s": subprocess_time([python, "-c", "import crystallize_tui.tui.app"], repeat),
        "crystallize_help_s": subprocess_time([cli, "--help"], repeat),
        # The first live statistics refresh of a session imports this on the UI thread.
        "stats_import_s": min(float(subprocess.run(
            [python, "-c", "import time, crystallize_tui.tui.app; t = time.perf_counter(); "
             "import crystallize_tui.stats; print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True, cwd=ROOT).stdout) for _ in range(repeat)),
    }


if __name__ == "__main__":
    # The child: import, start the app, say "ready" once every experiment shows.
    elapsed = asyncio.run(_startup(Path(sys.argv[1]), int(sys.argv[2])))
    sys.__stdout__.write(f"ready {elapsed:.4f}\n")
    sys.__stdout__.flush()
