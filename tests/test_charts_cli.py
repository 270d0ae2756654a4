"""``crystallize show --plot``, ``plot -o FILE.svg`` and ``history --plot`` on the bundled
regularisation example, run for real with a few replicates."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_support import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"
CONDITIONS = ["baseline", "strong_l2", "high_lr"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A workspace with two stored runs of ml_regularisation (3 replicates each)."""
    root = tmp_path_factory.mktemp("charts_ws")
    shutil.copytree(EXAMPLES / "ml_regularisation", root / "experiments" / "ml_regularisation")
    runs = []
    for seed in ("42", "7"):
        out = cli(root, "run", "ml_regularisation", "-n", "3", "--seed", seed)
        assert out.returncode == 0, out.stderr
        runs.append(out.stdout.split("run ")[-1].split()[0])
    return root, runs


def test_show_plot_draws_each_chart_at_the_terminal_width(workspace):
    root, runs = workspace
    out = cli(root, "show", runs[0], "--plot", env={"COLUMNS": "80", "LINES": "24"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines[1:])  # the charts; line 1 names the run
    text = out.stdout
    for title in ("loss: mean per step", "accuracy: one point per replicate",
                  "test_loss: treatment - baseline, anytime-valid interval"):
        assert title in text
    assert "■ baseline  ■ strong_l2  ■ high_lr" in text  # the series and strip legends
    assert "■ strong_l2  ■ high_lr" in text.split("treatment - baseline")[1]
    assert "baseline: mean" in text and "n=3" in text  # the strip's mean and CI per condition
    # The anytime chart's zero line: a row of dots across the plot labelled 0 at its end.
    anytime = text.split("test_loss: treatment - baseline")[1].split("\n\n")[0]
    assert any(line.endswith("0") and sum(0x2800 < ord(c) <= 0x28FF for c in line) > 50
               for line in anytime.splitlines())


def test_plot_writes_a_valid_svg_with_a_legend_and_a_path_per_condition(workspace):
    root, runs = workspace
    out = cli(root, "plot", runs[0], "loss", "-o", "loss.svg", "--band", "ci")
    assert out.returncode == 0, out.stderr
    svg = ET.parse(root / "loss.svg").getroot()
    assert svg.tag == f"{SVG}svg"
    legend = svg.find(f".//{SVG}g[@class='legend']")
    assert [t.text for t in legend.iter(f"{SVG}text")] == CONDITIONS
    series = [p.get("data-condition") for p in svg.iter(f"{SVG}path") if p.get("class") == "series"]
    assert series == CONDITIONS
    bands = [p.get("data-condition") for p in svg.iter(f"{SVG}polygon")]
    assert bands == CONDITIONS
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "step" in texts and "loss" in texts and "60" in texts  # axis labels, the last epoch

    out = cli(root, "plot", runs[0], "accuracy", "-o", "acc.svg")
    assert out.returncode == 0, out.stderr
    svg = ET.parse(root / "acc.svg").getroot()
    points = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "points"]
    assert [len(list(g)) for g in points] == [3, 3, 3]  # one glyph per replicate
    anytime = cli(root, "plot", runs[0], "test_loss", "--kind", "anytime", "-o", "any.svg")
    assert anytime.returncode == 0, anytime.stderr
    svg = ET.parse(root / "any.svg").getroot()
    assert [e.get("class") for e in svg.iter(f"{SVG}line")].count("reference") == 1


def test_history_plot_shows_each_run(workspace):
    root, runs = workspace
    out = cli(root, "history", "ml_regularisation", "--plot", "test_loss",
              env={"COLUMNS": "100", "LINES": "30"})
    assert out.returncode == 0, out.stderr
    assert "test_loss (baseline) across runs" in out.stdout
    for run_id in runs:
        assert run_id in out.stdout  # each run's note names it
    assert "first to last:" in out.stdout


@pytest.mark.parametrize("args, message", [
    (("show", "RUN", "--plot", "los"), "has no metric 'los'; did you mean 'loss'?"),
    (("plot", "nope", "loss", "-o", "x.svg"), "no run 'nope'"),
    (("plot", "RUN", "loss", "-o", "missing/x.svg"), "-o missing/x.svg: cannot write the file"),
    (("history", "ml_regularisation", "--plot", "nope"), "recorded metric 'nope'"),
])
def test_bad_metric_run_or_file_is_one_line_and_exit_2(workspace, args, message):
    root, runs = workspace
    out = cli(root, *(runs[0] if a == "RUN" else a for a in args))
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_plot_against_a_second_run_draws_both_per_condition(workspace):
    root, runs = workspace
    out = cli(root, "plot", runs[0], "accuracy", "--against", runs[1], "-o", "two.svg")
    assert out.returncode == 0, out.stderr
    svg = ET.parse(root / "two.svg").getroot()
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert [f"{c} {side}" for c in CONDITIONS for side in "AB"] == [
        t for t in texts if t and t.endswith((" A", " B"))]
    assert f"A = {runs[0]}, B = {runs[1]}" in texts
    points = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "points"]
    assert [g.get("data-condition") for g in points] == [c for c in CONDITIONS for _ in "AB"]
