"""What `crystallize run` prints under the table tells a CLI user how to get an unpaired test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pairing_footnote_names_the_yaml_way_to_an_unpaired_test(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "experiments" / "ab_checkout", tmp_path / "experiments" / "ab_checkout")
    done = subprocess.run(
        [sys.executable, "-m", "crystallize_tui.cli", "run", "ab_checkout", "--root", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # the footnote may wrap
    # Not only Python's keyword: the YAML user needs their own way to it.
    assert "compare(paired=False) in Python, or a hypothesis with test: fisher (0/1) or welch in experiment.yaml" in text


def _step(config, ctx):
    ctx.metrics.add("score", ctx.rng.gauss(config["mu"], 1.0))


def test_one_sided_footnote_reads_as_a_sentence() -> None:
    from crystallize_tui import Experiment, Treatment

    experiment = Experiment(name="sided", datasource={"mu": 0.0}, pipeline=[_step], replicates=6, store=None)
    experiment.treatments = [Treatment("up", {"mu": 1.0})]
    lines = experiment.run().compare(alternative="greater").footnotes()
    assert any("whether the treatment is greater than baseline" in line for line in lines), lines
