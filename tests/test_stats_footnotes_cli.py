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
