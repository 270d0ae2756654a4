"""result.compare(a, b): any two conditions paired by replicate, and a correction across the whole table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, write_experiment
from scipy import stats

from crystallize_tui import Experiment, Treatment
from crystallize_tui.core.errors import ConfigError

# Per-replicate values of each condition, with noise that differs between conditions so the
# paired differences vary (a paired t-test, not the sign test of a constant shift).
BASE = {"speed": [5.1, 4.8, 5.6, 5.0, 4.4, 5.9, 5.3, 4.7, 5.2, 5.5],
        "errors": [3.0, 2.5, 3.3, 2.9, 3.8, 2.2, 3.1, 3.4, 2.7, 3.0]}
FAST = {"speed": [5.9, 5.0, 6.4, 5.3, 5.1, 6.3, 6.0, 5.2, 5.4, 6.4],
        "errors": [3.1, 2.4, 3.6, 2.8, 3.9, 2.6, 3.0, 3.7, 2.9, 3.3]}
SLOW = {"speed": [4.2, 4.9, 5.0, 4.1, 4.0, 5.2, 4.3, 4.6, 4.0, 5.1],
        "errors": [2.9, 2.6, 3.2, 3.1, 3.5, 2.4, 3.3, 3.2, 2.6, 3.1]}


def record(config, ctx):
    """Each replicate records its condition's values at its index."""
    for name, values in config["values"].items():
        ctx.metrics.add(name, values[ctx.replicate])


@pytest.fixture(scope="module")
def result():
    return Experiment(
        name="race", datasource={"values": BASE}, pipeline=[record], replicates=10, store=None,
        treatments=[Treatment("fast", {"values": FAST}), Treatment("slow", {"values": SLOW})],
    ).run()


def holm(ps: list[float]) -> list[float]:
    """Holm's step-down adjustment, written out here as the check."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * ps[i])
        out[i] = min(running, 1.0)
    return out


def test_a_pair_of_treatments_is_scipys_paired_t_test_of_those_two(result) -> None:
    table = result.compare("fast", "slow")
    for metric in ("speed", "errors"):
        row = table["slow", metric]
        expected = stats.ttest_rel(SLOW[metric], FAST[metric])
        assert row.reference == "fast" and row.test == "paired t-test"
        assert row.statistic == pytest.approx(expected.statistic)
        assert row.p_value == pytest.approx(expected.pvalue)
        assert row.difference == pytest.approx(np.mean(SLOW[metric]) - np.mean(FAST[metric]))
        assert row.mean_baseline == pytest.approx(np.mean(FAST[metric]))
    assert "slow − fast" in table.title
    text = table.render(200)
    assert "slow − fast" in text and "difference: slow − fast" in text


def test_pair_keyword_and_options_give_the_same_rows(result) -> None:
    by_args = result.compare("fast", "slow", metrics=["speed"], alternative="less")
    by_keyword = result.compare(pair=("fast", "slow"), metrics=["speed"], alternative="less")
    expected = stats.ttest_rel(SLOW["speed"], FAST["speed"], alternative="less")
    assert [r.p_value for r in by_args] == [r.p_value for r in by_keyword]
    assert by_args["slow", "speed"].p_value == pytest.approx(expected.pvalue)
    assert any("whether slow is less than fast" in line for line in by_args.footnotes())
    # the old positional form still reads as (metrics, alpha, correction)
    old = result.compare(["speed"], 0.01, "none")
    assert [(r.treatment, r.metric, r.correction) for r in old] == [
        ("fast", "speed", "none"), ("slow", "speed", "none")]


def test_the_reversed_pair_flips_the_sign_and_keeps_p(result) -> None:
    forward, backward = result.compare("fast", "slow"), result.compare("slow", "fast")
    for metric in ("speed", "errors"):
        f, b = forward["slow", metric], backward["fast", metric]
        assert b.difference == pytest.approx(-f.difference)
        assert b.statistic == pytest.approx(-f.statistic)
        assert (b.ci_low, b.ci_high) == (pytest.approx(-f.ci_high), pytest.approx(-f.ci_low))
        assert b.p_value == pytest.approx(f.p_value)
    assert "fast − slow" in backward.title


def test_family_table_adjusts_across_every_row(result) -> None:
    table = result.compare(family="table")
    assert len(table) == 4  # 2 metrics x 2 treatments
    raw = [stats.ttest_rel(cond[m], BASE[m]).pvalue
           for m in ("speed", "errors") for cond in (FAST, SLOW)]
    assert [r.p_value for r in table] == pytest.approx(raw)
    assert [r.p_adjusted for r in table] == pytest.approx(holm(raw))
    # the default family corrects each metric's two treatments on their own
    per_metric = result.compare()
    assert [r.p_adjusted for r in per_metric] == pytest.approx(holm(raw[:2]) + holm(raw[2:]))
    assert any("across all 4 rows of the table" in line for line in table.footnotes())
    assert any("within each metric" in line for line in per_metric.footnotes())


def test_a_pair_with_family_table_corrects_across_its_metrics(result) -> None:
    table = result.compare("fast", "slow", family="table")
    raw = [stats.ttest_rel(SLOW[m], FAST[m]).pvalue for m in ("speed", "errors")]
    assert [r.p_adjusted for r in table] == pytest.approx(holm(raw))
    # per metric a pair is a family of one: p adj = p, and the title says so
    alone = result.compare("fast", "slow")
    assert [r.p_adjusted for r in alone] == pytest.approx(raw)
    assert "nothing to correct" in alone.title


def test_bad_pairs_are_refused_naming_the_condition(result) -> None:
    with pytest.raises(ConfigError, match="no condition named 'quick'"):
        result.compare("fast", "quick")
    with pytest.raises(ConfigError, match="two different conditions"):
        result.compare("fast", "fast")
    with pytest.raises(ValueError, match="family must be one of"):
        result.compare(family="everything")


STEP = '''
def play(config, ctx):
    for name, values in config["values"].items():
        ctx.metrics.add(name, values[ctx.replicate])
'''


def test_show_compares_a_pair_and_refuses_an_unknown_name(tmp_path: Path) -> None:
    yaml_text = json.dumps({"pipeline": ["race:play"], "datasource": {"values": BASE},
                            "replicates": 10, "treatments": {"fast": {"values": FAST},
                                                             "slow": {"values": SLOW}}})
    write_experiment(tmp_path, "race", yaml_text, {"race.py": STEP})
    ran = cli(tmp_path, "run", "race", "--json")
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(ran.stdout)["run_id"]

    shown = cli(tmp_path, "show", run_id, "--compare", "fast", "slow", "--family", "table",
                env={"COLUMNS": "220"})
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "race: slow − fast" in text and "across all 2 rows of the table" in text
    expected = stats.ttest_rel(SLOW["errors"], FAST["errors"]).pvalue
    row = next(line for line in shown.stdout.splitlines() if line.strip().startswith("errors"))
    assert "slow − fast" in row and f"{expected:.4f}" in row

    bad = cli(tmp_path, "show", run_id, "--compare", "fast", "quick")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"crystallize: error: compare: no condition named 'quick' in run {run_id} "
        "(conditions: baseline, fast, slow)"]
    assert bad.stdout == ""
