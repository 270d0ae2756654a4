"""bench/overhead.py measures what a user runs by default, and the on-ramp, in the same rounds."""

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "overhead.py"


def test_overhead_bench_has_the_default_rows_and_leaves_no_store_behind(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    out = subprocess.run(
        [sys.executable, str(BENCH), "--replicates", "20", "--rounds", "1", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout)["runs"]
    for row in ("default: run() (on-disk store)", "default: run(), ParallelExecution()",
                "quick_experiment (default)", "quick_experiment(store=path)"):
        assert runs[row]["us_per_replicate_median"] > 0
    assert not (tmp_path / ".crystallize").exists()  # its store was a temporary one
