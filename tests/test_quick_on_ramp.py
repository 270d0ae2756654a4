"""quick_experiment, the on-ramp: in memory by default, recorded only when a store is given."""

import pytest

from crystallize_tui import ConfigError, Store, quick_experiment


def score(config, ctx):
    return {"x": config["v"] + ctx.replicate}


def test_quick_experiment_writes_nothing_to_disk_by_default(tmp_path, monkeypatch, crystallize_home):
    monkeypatch.chdir(tmp_path)
    out = quick_experiment(score, {"baseline": {"v": 1}, "big": {"v": 5}}, replicates=3)
    assert out == {"baseline": {"x": [1, 2, 3]}, "big": {"x": [5, 6, 7]}}
    assert not crystallize_home.exists()
    assert not (tmp_path / ".crystallize").exists()


def test_quick_experiment_records_the_run_when_given_a_store(tmp_path):
    db = tmp_path / "quick.db"
    quick_experiment(score, {"baseline": {"v": 1}, "big": {"v": 5}}, replicates=3, name="look", store=db)
    runs = Store(db).runs("look")
    assert len(runs) == 1 and runs[0].status == "completed"


def test_quick_experiment_refuses_a_config_that_is_not_a_mapping():
    with pytest.raises(ConfigError, match=r"config 'b' must be a mapping \(dict\).* got float 0.5"):
        quick_experiment(score, {"a": {"v": 1}, "b": 0.5}, replicates=1)
