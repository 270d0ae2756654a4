"""crystallize-ml's examples written for this tool (tests/ported/), run as a user would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crystallize_tui import Store
from crystallize_tui.core.folders import load_experiment

PORTED = Path(__file__).resolve().parent / "ported"


def test_minimal_keeps_the_tuple_idiom_and_the_welch_hypothesis_holds():
    from ported import minimal

    result = minimal.main()
    assert not result.errors
    baseline, treated = (result.metrics[c].metrics["result"] for c in ("baseline", "add_ten_treatment"))
    assert len(baseline) == 10 and all(t - b == pytest.approx(30.0) for b, t in zip(baseline, treated, strict=True))
    assert result.hypotheses[0].verdict == "supported"


def test_csv_pipeline_reads_each_conditions_file_and_compares_explained_variance():
    from ported import csv_pipeline

    result = csv_pipeline.main()
    assert not result.errors
    base, better = (result.metrics[c].metrics["explained_variance"] for c in ("baseline", "better_data"))
    assert sum(better) / len(better) > 0.9 > sum(base) / len(base)  # correlated vs unrelated features


def test_dag_runs_both_producers_first_and_combines_them_per_condition(tmp_path, capsys):
    from ported import dag

    result = dag.main(tmp_path)
    assert result.metrics["baseline"].metrics["comfort"] == [pytest.approx(21.0 - 0.45)]
    assert result.metrics["scaled"].metrics["comfort"] == [pytest.approx(31.5 - 0.675)]
    said = capsys.readouterr().out
    assert "upstream temperature_stats: no completed run; running it first" in said
    assert "upstream humidity_stats: no completed run; running it first" in said
    consumed = Store(tmp_path / "dag.db").lineage(result.run_id)
    assert sorted(c["experiment"] for c in consumed) == ["humidity_stats", "temperature_stats"]


def test_optimization_grid_search_finds_the_smallest_sum():
    from ported import optimization

    assert optimization.main() == {"delta": 0}


def test_folder_experiment_loads_from_its_yaml_and_saves_out_txt(tmp_path):
    shutil.copytree(PORTED / "workspace" / "experiments", tmp_path / "experiments")
    experiment = load_experiment(tmp_path / "experiments" / "folder_experiment")
    experiment.store = tmp_path / "db.sqlite"
    result = experiment.run(echo=False)
    assert not result.errors, result.errors
    values = {c: result.metrics[c].metrics["val"] for c in result.conditions}
    assert values == {"baseline": [2, 2], "increase_by_one": [2, 2], "increase_by_two": [3, 3]}
    out = tmp_path / "experiments" / "folder_experiment" / "artifacts" / "folder_experiment" / "v0"
    assert (out / "increase_by_two" / "replicate_1" / "out.txt").read_text() == "3"
