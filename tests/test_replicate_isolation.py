"""What the fast per-replicate path must keep: each replicate its own config, replicate k
the same seed in every condition, events for listeners, cancellation at step boundaries."""

import pytest
from steps_isolation import mutate_flat, mutate_nested, seed_and_draw

from crystallize_tui import (
    Experiment,
    MetricRecorded,
    ParallelExecution,
    StepFinished,
    StepStarted,
    Treatment,
    derive_seed,
    quick_experiment,
)

BACKENDS = pytest.mark.parametrize("plugins", [
    [], [ParallelExecution(max_workers=2, kind="thread")], [ParallelExecution(max_workers=2)],
], ids=["serial", "threads", "processes"])


@BACKENDS
def test_a_step_that_mutates_a_flat_config_does_not_change_the_next_replicate(tmp_path, plugins):
    exp = Experiment(name="flat", datasource={"v": 1}, pipeline=[mutate_flat], replicates=5,
                     treatments=[Treatment("t", {"v": 2})], plugins=plugins, store=tmp_path / "c.db")
    result = exp.run()
    assert result.status == "completed"
    assert result.metrics["baseline"].metrics["v_seen"] == [1] * 5
    assert result.metrics["t"].metrics["v_seen"] == [2] * 5
    assert result.metrics["baseline"].metrics["had_extra"] == [False] * 5
    assert exp.resolve_configs(["baseline", "t"]) == {"baseline": {"v": 1}, "t": {"v": 2}}


@BACKENDS
def test_a_step_that_mutates_a_nested_config_does_not_change_the_next_replicate(tmp_path, plugins):
    config = {"layers": [64, 64], "opt": {"lr": 0.1}}
    exp = Experiment(name="nested", datasource=config, pipeline=[mutate_nested], replicates=4,
                     plugins=plugins, store=tmp_path / "c.db")
    result = exp.run()
    assert result.metrics["baseline"].metrics["len_seen"] == [2] * 4
    assert result.metrics["baseline"].metrics["lr_seen"] == [0.1] * 4
    assert config == {"layers": [64, 64], "opt": {"lr": 0.1}}


def test_quick_experiment_keeps_each_replicates_config_its_own():
    configs = {"baseline": {"v": 1}, "t": {"v": 2}}
    out = quick_experiment(mutate_flat, configs, replicates=4)
    assert out["baseline"]["v_seen"] == [1] * 4 and out["t"]["v_seen"] == [2] * 4
    assert configs == {"baseline": {"v": 1}, "t": {"v": 2}}


@BACKENDS
def test_replicate_k_has_the_same_seed_in_every_condition(tmp_path, plugins):
    exp = Experiment(name="seeds", datasource={}, pipeline=[seed_and_draw], replicates=6, seed=11,
                     treatments=[Treatment("a", {"x": 1}), Treatment("b", {"x": 2})],
                     plugins=plugins, store=tmp_path / "c.db")
    result = exp.run()
    expected = [float(derive_seed(11, k)) for k in range(6)]
    draws = result.metrics["baseline"].metrics["draw"]
    for condition in ("baseline", "a", "b"):
        assert result.metrics[condition].metrics["seed"] == expected
        assert result.metrics[condition].metrics["draw"] == draws
    # A partial run (one treatment) and a single replicate give the same seeds.
    only_b = exp.run(treatments=["b"])
    assert only_b.metrics["b"].metrics["seed"] == expected
    assert exp.debug("a", 4, verbose=False).metrics["seed"] == expected[4]


def test_quick_experiment_seeds_match_experiment_run(tmp_path):
    out = quick_experiment(seed_and_draw, {"baseline": {}, "t": {}}, replicates=5, seed=3)
    expected = [float(derive_seed(3, k)) for k in range(5)]
    assert out["baseline"]["seed"] == expected == out["t"]["seed"]
    assert out["baseline"]["draw"] == out["t"]["draw"]


def test_a_listener_still_hears_every_step_and_metric(tmp_path):
    heard = []
    exp = Experiment(name="heard", datasource={"v": 1}, pipeline=[mutate_flat], replicates=3,
                     treatments=[Treatment("t", {"v": 2})], store=None)
    exp.subscribe(heard.append)
    exp.run()
    for kind in (StepStarted, StepFinished):
        assert sorted((e.treatment, e.replicate) for e in heard if isinstance(e, kind)) == [
            (c, k) for c in ("baseline", "t") for k in range(3)]
    assert len([e for e in heard if isinstance(e, MetricRecorded)]) == 2 * 3 * 2


def test_a_cancel_is_seen_at_the_next_step_boundary_with_nobody_listening():
    exp = Experiment(name="stop", datasource={}, replicates=5, store=None)
    ran_second = []

    def first(config, ctx):
        ctx.metrics.add("first", 1)
        if ctx.replicate == 2:
            exp.cancel()

    def second(config, ctx):
        ran_second.append(ctx.replicate)
        ctx.metrics.add("second", 1)

    exp.pipeline = [first, second]
    result = exp.run()
    assert result.status == "cancelled"
    assert ran_second == [0, 1]
    assert result.metrics["baseline"].metrics["second"] == [1, 1, None, None, None]
