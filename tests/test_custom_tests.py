"""Your own test: Hypothesis(metric, test=fn) and YAML `test: module:function` in tables and verdicts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_support import cli, write_experiment

from crystallize_tui import Experiment, Hypothesis, Treatment
from crystallize_tui.commands.running import result_document
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.folders import load_experiment

SEEN: list[tuple[np.ndarray, np.ndarray]] = []


def fixed_p(baseline, treatment, alternative="two-sided"):
    """Returns p 0.02 whatever the data, an effect and an interval; records what it got."""
    SEEN.append((baseline, treatment, alternative))
    d = treatment - baseline
    return {"p_value": 0.02, "effect": float(d.mean()), "ci": (float(d.min()), float(d.max()))}


def broken(baseline, treatment):
    raise RuntimeError("kaput")


def not_a_probability(baseline, treatment):
    return 1.5, 0.1


def step(config, ctx):
    ctx.metrics.add("x", config["mu"] + ctx.replicate)
    ctx.metrics.add("y", config["mu"] * ctx.replicate)


def _result(*hypotheses):
    exp = Experiment(pipeline=[step], datasource={"mu": 0.0}, replicates=4, store=None,
                     treatments=[Treatment("up", {"mu": 1.0}), Treatment("more", {"mu": 2.0})],
                     hypotheses=list(hypotheses))
    return exp.run(echo=False)


def test_own_test_in_table_verdicts_corrections_and_json():
    SEEN.clear()
    result = _result(Hypothesis("x", test=fixed_p, direction="greater"))
    row = result.compare()["up", "x"]
    assert row.test == "fixed_p" and row.paired
    assert (row.p_value, row.p_adjusted) == (0.02, 0.04)  # Holm across the two treatments
    assert (row.effect, row.ci_low, row.ci_high) == (1.0, 1.0, 1.0)
    assert result.compare()["up", "y"].test != "fixed_p"  # other metrics keep the built-in tests
    baseline, treatment, _ = SEEN[0]
    assert isinstance(baseline, np.ndarray) and list(treatment - baseline) == [1.0] * 4  # paired
    verdicts = {v.treatment: v for v in result.hypotheses}
    assert verdicts["more"].verdict == "supported" and "fixed_p" in str(verdicts["more"])
    assert ("greater" in [a for _, _, a in SEEN])  # the hypothesis' direction reached the function
    doc = result_document(result)
    assert {r["test"] for r in doc["comparison"] if r["metric"] == "x"} == {"fixed_p"}
    assert doc["hypotheses"][0]["test"] == "fixed_p" and doc["hypotheses"][0]["verdict"] == "supported"
    assert "fixed_p" in str(result.compare())


@pytest.mark.parametrize(("fn", "note"), [
    (broken, "broken raised RuntimeError: kaput"),
    (not_a_probability, "not_a_probability returned p-value 1.5, not a probability in [0, 1]"),
])
def test_a_failing_test_is_shown_in_its_row(fn, note):
    result = _result(Hypothesis("x", test=fn))
    row = result.compare()["up", "x"]
    assert row.verdict == "inconclusive (test failed)" and note in row.note
    assert all(v.inconclusive for v in result.hypotheses)
    assert "inconclusive" in str(result.compare())  # the table renders


TESTS_MODULE = '''
def sign_flip(baseline, treatment):
    return 0.001 if (treatment > baseline).all() else 0.9
'''
YAML = '''
pipeline: [steps:play]
datasource: {mu: 0}
replicates: 3
treatments:
  up: {mu: 1}
hypotheses:
  - {metric: x, direction: greater, test: %s}
'''


def test_yaml_test_function_runs_and_a_stored_run_reloads_it(tmp_path):
    write_experiment(tmp_path, "own", YAML % "checks:sign_flip", {
        "steps.py": "def play(config, ctx):\n    ctx.metrics.add('x', config['mu'] + ctx.replicate)\n"})
    (tmp_path / "experiments" / "lib").mkdir()
    (tmp_path / "experiments" / "lib" / "checks.py").write_text(TESTS_MODULE)  # from the shared lib/
    ran = cli(tmp_path, "run", "own", "--json")
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["comparison"][0]["test"] == "sign_flip" and doc["comparison"][0]["p_value"] == 0.001
    assert doc["hypotheses"][0]["verdict"] == "supported"
    shown = cli(tmp_path, "show", doc["run_id"])  # another process imports the test again
    assert "x greater in up: supported (sign_flip" in shown.stdout, shown.stdout + shown.stderr


def test_yaml_test_errors_name_file_line_and_key(tmp_path):
    folder = write_experiment(tmp_path, "own", YAML % "steps:nope", {
        "steps.py": "def play(config, ctx):\n    pass\n\ndef one(x):\n    return 0.5\n"})
    with pytest.raises(ConfigError, match=re.escape("experiment.yaml:8: hypotheses[0].test: module "
                                                    "'steps' has no function 'nope'")):
        load_experiment(folder)
    (folder / "experiment.yaml").write_text(YAML % "steps:one")
    with pytest.raises(ConfigError, match=re.escape("hypotheses[0].test: 'steps:one' must take the "
                                                    "two samples (baseline, treatment)")):
        load_experiment(folder)
