"""A run without a stop rule still reports its anytime-valid rows beside the fixed-n table."""

from __future__ import annotations

from cli_support import cli, write_experiment

YAML = """name: coin
pipeline: [coin:flip]
datasource: {p: 0.2}
replicates: 40
treatments:
  fair: {p: 0.5}
  loaded: {p: 0.95}
hypotheses:
  - {metric: heads, direction: greater}
"""

COIN = """
def flip(config, ctx):
    ctx.metrics.add("heads", int(ctx.rng.random() < config["p"]))
    ctx.metrics.add("noise", ctx.rng.random())
"""


def test_a_fixed_run_prints_the_anytime_rows_of_its_hypotheses(tmp_path):
    write_experiment(tmp_path, "coin", YAML, {"coin.py": COIN})
    ran = cli(tmp_path, "run", "coin")
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    head = next(line for line in out.splitlines() if line.startswith("anytime-valid"))
    # corrected across every row (both metrics), the hypothesis metric's rows shown
    assert "Holm step-down across 4 row(s)" in head and "the 2 of the hypotheses' metrics shown" in head
    rows = [line.strip() for line in out.splitlines() if line.startswith("  ") and " n=40 " in line]
    assert [r.split(":")[0] for r in rows] == ["fair heads", "loaded heads"]
    assert "loaded heads" in rows[1] and "decided: better" in rows[1]  # 0.95 vs 0.2, 40 pairs
    assert "noise" not in "".join(rows)
