"""Coming from crystallize-ml: a step returning (data, {"metric": value}) records the metrics."""

from __future__ import annotations

from crystallize_tui import Experiment, Store


def score(config, ctx):
    return config["x"] * 2, {"accuracy": 0.5 + ctx.replicate, "passed": True}


def keep_tuple(data, ctx):
    return data, {"label": "not a metric"}  # not numbers: the tuple is the step's data


def check(data, ctx):
    assert data == (config_x := 6, {"label": "not a metric"}), data
    ctx.metrics.add("seen", config_x)


def test_a_step_returning_data_and_metrics_records_them_and_passes_the_data_on(tmp_path):
    experiment = Experiment(name="ported", datasource={"x": 3}, pipeline=[score, keep_tuple, check],
                            replicates=3, store=tmp_path / "db.sqlite")
    result = experiment.run(echo=False)
    assert not result.errors, result.errors
    got = result.metrics["baseline"].metrics
    assert got["accuracy"] == [0.5, 1.5, 2.5] and got["passed"] == [True] * 3 and got["seen"] == [6] * 3
    lines = [e.get("text", "") for e in Store(tmp_path / "db.sqlite").events(result.run_id)
             if "crystallize-ml" in e.get("text", "")]
    assert len(lines) == 1  # one notice per run and step, not one per replicate
    assert "step score returned (data, {accuracy, passed})" in lines[0]
    kept = [e.get("text", "") for e in Store(tmp_path / "db.sqlite").events(result.run_id)
            if "not all numbers" in e.get("text", "")]
    assert kept == ["note: step keep_tuple returned (data, {label}) with values that are not all numbers: "
                    "kept as the step's data (the whole tuple), not recorded as metrics; record metrics "
                    "with ctx.metrics.add(name, value)"]


async def async_score(config, ctx):
    return [config["x"]], {"accuracy": 0.25}


def test_an_async_step_returning_data_and_metrics_is_recognised_too(tmp_path):
    result = Experiment(name="ported_async", datasource={"x": 3}, pipeline=[async_score, check_list],
                        replicates=2, store=tmp_path / "db.sqlite").run(echo=False)
    assert not result.errors, result.errors
    assert result.metrics["baseline"].metrics["accuracy"] == [0.25, 0.25]


def check_list(data, ctx):
    assert data == [3], data
