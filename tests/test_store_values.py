"""Values at SQLite's limits: huge integer metrics and seeds, through the store and the CLI."""

import os
import subprocess
import sys
import textwrap

from crystallize_tui import Experiment, Store

BIG = 2**70


def big_metrics(config, ctx):
    ctx.metrics.add("big", BIG + ctx.replicate)
    ctx.metrics.add("negative", -(BIG + ctx.replicate))
    ctx.metrics.add("small", ctx.replicate)
    if ctx.replicate == 2:
        ctx.metrics.add("enormous", 2**20_000)  # beyond what can be stored as text


def test_integers_beyond_64_bits_are_stored_exactly_and_an_unstorable_one_fails_its_replicate(tmp_path):
    db = tmp_path / "s.db"
    result = Experiment(name="big", pipeline=[big_metrics], replicates=4, store=db).run()
    assert result.status == "failed"
    (error,) = result.errors
    assert error.replicate == 2 and "metric 'enormous'" in error.error and "too large" in error.error

    stored = Store(db).load(result.run_id)
    assert stored.status == "failed" and len(stored.replicate_results) == 4
    values = stored.metrics.baseline.metrics
    assert values["big"] == [BIG, BIG + 1, None, BIG + 3]
    assert values["negative"] == [-BIG, -BIG - 1, None, -BIG - 3]
    assert all(type(v) is int for v in values["big"] if v is not None)
    assert values["small"] == [0, 1, None, 3]


def test_a_seed_beyond_64_bits_is_refused_in_one_line_with_exit_2(tmp_path):
    folder = tmp_path / "experiments" / "tiny"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text("pipeline: [steps:step]\nreplicates: 2\n")
    (folder / "steps.py").write_text(textwrap.dedent("""
        def step(config, ctx):
            ctx.metrics.add("x", ctx.rng.random())
    """))
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    out = subprocess.run(
        [sys.executable, "-m", "crystallize_tui.cli", "run", "tiny", "--seed", str(10**30)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"seed {10**30}: out of range" in lines[0]
    # The largest seed that fits still runs and is stored as given.
    ok = subprocess.run(
        [sys.executable, "-m", "crystallize_tui.cli", "run", "tiny", "--seed", str(2**63 - 1)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    (record,) = Store(tmp_path / ".crystallize" / "crystallize.db").runs("tiny")
    assert record.base_seed == 2**63 - 1
