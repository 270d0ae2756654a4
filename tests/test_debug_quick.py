"""The one-replicate debug mode, quick_experiment, and standalone_context."""

import pytest
from steps import chatty_step, coin_game

from crystallize_tui import (
    Experiment,
    ParallelExecution,
    ReplicateError,
    SeedPlugin,
    Treatment,
    quick_experiment,
    standalone_context,
)


def build():
    return Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=10,
                      plugins=[SeedPlugin(seed=42), ParallelExecution(max_workers=2)],
                      treatments=[Treatment("dolphin", {"p": 0.9})])


def test_debug_reproduces_one_replicate_of_a_full_run(capsys):
    full = build().run()
    one = build().debug(treatment="dolphin", replicate=7)
    assert one.metrics == full.replicate("dolphin", 7).metrics
    assert one.seed == full.replicate("dolphin", 7).seed
    assert one.output == [pytest.approx(x) for x in one.output]  # the step's return value
    printed = capsys.readouterr().out
    assert "[dolphin #7] step coin_game" in printed
    assert "[dolphin #7] metric win" in printed


def test_debug_shows_prints_and_emits_live(capsys):
    Experiment(datasource={"events": 2}, pipeline=[chatty_step]).debug()
    printed = capsys.readouterr().out
    assert "start baseline 0" in printed
    assert "[baseline #0] tick i=0" in printed
    assert printed.index("start baseline 0") < printed.index("tick i=0")


def test_debug_lets_the_exception_propagate_with_its_traceback():
    def broken(config, ctx):
        return {}["missing"]

    with pytest.raises(KeyError, match="missing") as info:
        Experiment(pipeline=[broken]).debug(verbose=False)
    assert info.traceback[-1].name == "broken"


def test_quick_experiment_returns_plain_dicts():
    def run_game(config, ctx):
        ctx.metrics.add("win", ctx.rng.random() < config["p"])

    out = quick_experiment(run_game, {"baseline": {"p": 0.0}, "treatment": {"p": 1.0}},
                           replicates=5, seed=0)
    assert out == {"baseline": {"win": [False] * 5}, "treatment": {"win": [True] * 5}}


def test_quick_experiment_takes_a_plain_function_and_its_return_values():
    def score(config):
        return {"score": config["x"] * 2, "label": "ignored"}

    out = quick_experiment(score, {"control": {"x": 1}, "big": {"x": 5}}, replicates=2)
    assert out == {"control": {"score": [2, 2]}, "big": {"score": [10, 10]}}

    out = quick_experiment(lambda c: c["x"] > 2, {"a": {"x": 1}, "b": {"x": 3}}, replicates=1)
    assert out == {"a": {"result": [False]}, "b": {"result": [True]}}


def test_quick_experiment_pairs_replicates_by_seed():
    out = quick_experiment(lambda c, ctx: {"r": ctx.rng.random()}, {"a": {}, "b": {}}, replicates=3)
    assert out["a"]["r"] == out["b"]["r"]


def test_quick_experiment_raises_when_every_replicate_fails_and_warns_on_some():
    def boom(config):
        raise RuntimeError("game crashed")

    with pytest.raises(ReplicateError, match="every replicate failed.*game crashed"):
        quick_experiment(boom, {"a": {}}, replicates=2)

    def sometimes(config, ctx):
        if ctx.replicate == 1:
            raise RuntimeError("flaky")
        return 1

    with pytest.warns(RuntimeWarning, match="1 replicate"):
        out = quick_experiment(sometimes, {"a": {}}, replicates=3)
    assert out == {"a": {"result": [1, None, 1]}}


def test_standalone_context_runs_a_step_like_the_experiment_would():
    ctx = standalone_context({"p": 0.5}, seed=42, treatment="dolphin", replicate=7)
    coin_game({"p": 0.5}, ctx)
    full = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=8, seed=42).run()
    assert ctx.metrics.last() == full.replicate("baseline", 7).metrics
    ctx.emit("hello", x=1)
    assert ctx.events[-1].kind == "hello" and ctx.events[-1].data == {"x": 1}
    assert ctx.metrics["win"] == ctx.metrics.last()["win"]
