"""What `crystallize run` and `crystallize show` print about the statistics, through the
real CLI in a subprocess: pairing explained, one p format, the correction's family."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

STEPS = '''
def measure(config, ctx):
    lift = config["lift"]
    # Nanosecond-scale timestamps: a huge offset with real noise (#34); the extra draw
    # makes the noise differ between conditions despite the shared seed.
    if lift:
        ctx.rng.random()
    ctx.metrics.add("clock", 1e15 + ctx.rng.gauss(0, 1) + 5 * lift)
    # Every replicate gains exactly `lift` steps (#35).
    ctx.metrics.add("steps", ctx.replicate + 30 * lift)
    # One simulated user per replicate (#37).
    ctx.metrics.add("converted", int(ctx.rng.random() < 0.2 + 0.6 * lift))
'''

YAML = '''
pipeline: [steps:measure]
datasource: {lift: 0}
replicates: 12
seed: 7
treatments:
  better: {lift: 1}
hypotheses:
  - {metric: converted, direction: two-sided, test: fisher}
  - {metric: steps, direction: greater}
'''


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    return subprocess.run([sys.executable, "-m", "crystallize_tui.cli", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)


def test_run_explains_pairing_family_and_uses_one_p_format(tmp_path):
    folder = tmp_path / "experiments" / "lift"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(textwrap.dedent(YAML))
    (folder / "steps.py").write_text(textwrap.dedent(STEPS))
    out = cli(tmp_path, "run", "lift")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    flat = " ".join(text.split())  # the caption wraps at the console width
    # the family of the correction and the pairing, where the user reads the table
    assert "one treatment: nothing to correct, p adj = p" in flat
    assert "common random numbers" in flat and "real A/B test" in flat
    # #34: the huge-offset metric is compared, not called constant
    clock = next(line for line in text.splitlines() if line.lstrip().startswith("clock"))
    assert "paired t" in clock and "significant" in clock and "identical" not in text
    # #35: the constant +30 is decided by the exact sign test, and said so
    assert "sign test" in text and "every paired difference is +30" in flat
    # #37/#18: the hypothesis line names its unpaired test, reads as words, and prints p
    # in the table's format (4 decimals or <0.0001), never in a second style
    line = next(v for v in text.splitlines() if "converted differs in better" in v)
    assert "Fisher's exact test, unpaired" in line
    assert "two-sided" not in line
    printed = re.findall(r"p adj (\d[^\s)]*|<[^\s)]+)", text)
    assert len(printed) == 2
    for p in printed:
        assert re.fullmatch(r"<0\.0001|\d\.\d{4,}", p), p
    run_id = re.search(r"run (\S+) \(", text).group(1)
    shown = cli(tmp_path, "show", run_id)
    assert shown.returncode == 0, shown.stderr
    assert "common random numbers" in " ".join(shown.stdout.split())
    assert "sign test" in shown.stdout


SLOW_STEPS = '''
import time


def play(config, ctx):
    time.sleep(0.05)
    ctx.metrics.add("score", ctx.rng.gauss(config["mean"], 1.0))
'''

SLOW_YAML = '''
pipeline: [slow:play]
datasource: {mean: 0.0}
replicates: 200
treatments:
  higher: {mean: 1.0}
hypotheses:
  - {metric: score, direction: greater}
'''


def test_a_cancelled_run_compares_only_replicates_that_ran_in_every_condition(tmp_path):
    """Issue 9.9 through the CLI: the statistics of a cancelled run never count replicates
    it did not start as dropped pairs ("0 pairs (-6)"); the title says what they rest on."""
    from cli_support import interrupt_once_stored, write_experiment

    write_experiment(tmp_path, "slow", SLOW_YAML, {"slow.py": SLOW_STEPS})
    code, _, err = interrupt_once_stored(tmp_path, 8, "run", "slow")
    assert code == 130, err
    shown = cli(tmp_path, "show", _latest_run(tmp_path))
    flat = " ".join(shown.stdout.split())
    assert "cancelled: over the" in flat and "replicate(s) that ran in every condition" in flat
    assert not re.search(r"pairs \(−\d+\)", shown.stdout), shown.stdout  # nothing dropped
    ran = int(re.search(r"the (\d+) replicate\(s\) that ran", flat).group(1))
    assert f"{ran} pairs" in flat and ran >= 4
    # the one-sided hypothesis says so beside its p (the table's p is two-sided)
    assert "one-sided" in flat


def _latest_run(root: Path) -> str:
    listed = cli(root, "history", "slow")
    return re.search(r"\d{8}-\d{6}-[0-9a-f]{6}", listed.stdout).group(0)
