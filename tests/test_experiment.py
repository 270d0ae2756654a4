"""The Experiment API: conditions, configs, results with gaps, rows, failures, validation."""

import pytest
from steps import coin_game, failing_on_odd, loss_curve

from crystallize_tui import (
    ConfigError,
    Experiment,
    Treatment,
    pipeline_step,
    register_datasource,
)


def test_overrides_merge_and_datasource_swaps():
    register_datasource("gemma", lambda: {"model": "gemma3", "players": 4})
    exp = Experiment(
        datasource={"model": "llama3", "players": 6, "nested": {"a": 1, "b": 2}},
        pipeline=[lambda c, ctx: None],
    )
    exp.treatments = [Treatment("dolphin", {"model": "dolphin", "nested": {"b": 3}})]
    exp.add_treatment("gemma_prey", datasource="gemma")
    exp.add_treatment("dict_swap", datasource={"model": "x"})
    assert exp.conditions == ["baseline", "dolphin", "gemma_prey", "dict_swap"]
    assert exp.config_for("dolphin") == {
        "model": "dolphin", "players": 6, "nested": {"a": 1, "b": 3}
    }
    assert exp.config_for("gemma_prey") == {"model": "gemma3", "players": 4}
    assert exp.config_for("dict_swap") == {"model": "x"}
    assert exp.config_for("baseline")["model"] == "llama3"


def test_step_sees_its_condition_config_and_ctx_fields():
    seen = []

    def step(config, ctx):
        seen.append((ctx.treatment, ctx.replicate, config["model"], ctx.config is config))

    exp = Experiment(datasource=lambda: {"model": "a"}, pipeline=[step], replicates=2,
                     treatments=[Treatment("b", {"model": "b"})])
    exp.run()
    assert sorted(seen) == [("b", 0, "b", True), ("b", 1, "b", True),
                            ("baseline", 0, "a", True), ("baseline", 1, "a", True)]


def test_a_step_mutating_its_config_does_not_leak_into_the_next_replicate():
    def step(config, ctx):
        ctx.metrics.add("n", len(config["items"]))
        config["items"].append("x")

    result = Experiment(datasource={"items": []}, pipeline=[step], replicates=3).run()
    assert result.metrics.baseline.metrics["n"] == [0, 0, 0]


def test_pipeline_passes_outputs_along_and_accepts_undecorated_steps():
    def first(config):  # no ctx parameter at all
        return config["x"] * 2

    @pipeline_step(name="second")
    def second(value, ctx):
        ctx.metrics.add("y", value + 1)

    result = Experiment(datasource={"x": 5}, pipeline=[first, second]).run()
    assert result.metrics.baseline.metrics["y"] == [11]


def test_failed_replicates_leave_gaps_and_are_listed():
    result = Experiment(datasource={}, pipeline=[failing_on_odd], replicates=4,
                        treatments=[Treatment("t", {})], seed=9).run()
    assert result.metrics.baseline.metrics["v"] == [0, None, 2, None]
    assert result.metrics.treatments["t"].metrics["v"] == [0, None, 2, None]
    assert result.status == "failed"
    errors = sorted(result.errors, key=lambda e: (e.treatment, e.replicate))
    assert [(e.treatment, e.replicate) for e in errors] == [
        ("baseline", 1), ("baseline", 3), ("t", 1), ("t", 3)
    ]
    first = errors[0]
    assert first.error == "ValueError: odd replicate 1"
    assert "failing_on_odd" in first.traceback and "raise ValueError" in first.traceback
    assert "core/replicate.py" not in first.traceback  # the user's code, not the engine's
    assert first.seed == result.replicate("baseline", 1).seed


def test_fail_fast_stops_at_the_first_failure():
    result = Experiment(datasource={}, pipeline=[failing_on_odd], replicates=10,
                        fail_fast=True).run()
    assert len(result.errors) == 1
    assert result.metrics.baseline.metrics["v"][:2] == [0, None]
    assert result.metrics.baseline.metrics["v"][2:] == [None] * 8  # never ran
    assert result.status == "failed" and not result.complete


def test_metric_series_and_rows():
    result = Experiment(datasource={}, pipeline=[loss_curve], replicates=2).run()
    base = result.metrics.baseline
    assert base.metrics["loss"] == [1 / 3, 1 / 4]  # per-replicate lists hold the last value
    assert base.series("loss") == [[1.0, 1 / 2, 1 / 3], [1 / 2, 1 / 3, 1 / 4]]
    rows = result.to_rows()
    assert len(rows) == 2 * (3 + 1)
    assert rows[0] == {"treatment": "baseline", "replicate": 0, "seed": rows[0]["seed"],
                       "status": "ok", "metric": "loss", "index": 0, "value": 1.0}
    assert [r["index"] for r in rows if r["metric"] == "loss" and r["replicate"] == 1] == [0, 1, 2]


def test_retries_rerun_a_failing_step_and_drop_the_failed_attempts_metrics():
    attempts = []

    @pipeline_step(retries=2)
    def flaky(config, ctx):
        attempts.append(1)
        ctx.metrics.add("attempt_metric", len(attempts))
        if len(attempts) < 3:
            raise RuntimeError("transient")
        return 1

    result = Experiment(datasource={}, pipeline=[flaky]).run()
    assert len(attempts) == 3
    assert result.replicate("baseline", 0).values == [("attempt_metric", 3)]


def test_run_overrides_replicates_treatments_and_seed():
    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=3,
                     treatments=[Treatment("a", {"p": 0.1}), Treatment("b", {"p": 0.9})])
    result = exp.run(replicates=2, treatments=["b"], seed=11)
    assert result.conditions == ["baseline", "b"]
    assert result.metrics.treatments.keys() == {"b"}
    assert len(result.metrics.baseline.metrics["win"]) == 2
    assert result.seed == 11


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Experiment(pipeline=[coin_game], replicates=0), "replicates must be a whole number"),
        (lambda: Experiment(pipeline=[coin_game], treatments=[Treatment("a"), Treatment("a")]),
         "used twice"),
        (lambda: Treatment("baseline", {}), "reserved for the baseline"),
        (lambda: Treatment("x", ["not", "a", "dict"]), "overrides must be a dict"),
        (lambda: Experiment(pipeline=[coin_game], plugins=[object()]), "is not a Plugin"),
        (lambda: Experiment(pipeline=["nope"]).run(), "pipeline step 0 is not callable"),
        (lambda: Experiment().run(), "empty pipeline"),
        (lambda: Experiment(pipeline=[coin_game], datasource="missing").run(),
         "unknown datasource 'missing'"),
        (lambda: Experiment(pipeline=[coin_game]).run(treatments=["ghost"]),
         "unknown condition 'ghost'"),
        (lambda: Experiment(pipeline=[coin_game], seed="1"), "seed must be an integer"),
    ],
)
def test_bad_declarations_get_clear_errors(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_metric_values_must_be_numbers():
    def step(config, ctx):
        ctx.metrics.add("winner", "aligned")

    result = Experiment(pipeline=[step]).run()
    assert "metric 'winner'" in result.errors[0].error
    assert "must be numbers or bools" in result.errors[0].error
