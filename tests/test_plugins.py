"""Shipped plugins: seeding of global RNGs, logging, artifacts; plugin failures."""

import logging
import random

import numpy as np
import pytest
from steps import coin_game, global_random_step

from crystallize_tui import (
    ArtifactPlugin,
    ArtifactSaved,
    Experiment,
    LoggingPlugin,
    ParallelExecution,
    Plugin,
    PluginError,
    SeedPlugin,
    Treatment,
)


def numpy_step(config, ctx):
    ctx.metrics.add("np_global", float(np.random.random()))
    ctx.metrics.add("np_ctx", float(ctx.np_rng.random()))
    ctx.metrics.add("py_global", random.random())


def test_auto_seed_makes_global_rngs_reproducible_and_paired():
    def run():
        return Experiment(pipeline=[numpy_step], replicates=4, plugins=[SeedPlugin(seed=3)],
                          treatments=[Treatment("t", {})]).run()

    a, b = run(), run()
    for name in ("np_global", "np_ctx", "py_global"):
        assert a.metrics.baseline.metrics[name] == b.metrics.baseline.metrics[name]
        # same seed for replicate k in every condition
        assert a.metrics.baseline.metrics[name] == a.metrics.treatments["t"].metrics[name]
        assert len(set(a.metrics.baseline.metrics[name])) == 4


def test_without_auto_seed_the_global_random_module_is_left_alone():
    random.seed(123)
    expected = random.Random(123).random()
    Experiment(pipeline=[global_random_step], plugins=[SeedPlugin(seed=1, auto_seed=False)]).run()
    # the step drew the first number of the user's own seeding
    random.seed(123)
    result = Experiment(pipeline=[global_random_step], plugins=[SeedPlugin(seed=1, auto_seed=False)]).run()
    assert result.metrics.baseline.metrics["x"] == [expected]


def test_global_seeding_also_happens_in_worker_processes():
    serial = Experiment(pipeline=[numpy_step], replicates=6, plugins=[SeedPlugin(seed=8)]).run()
    par = Experiment(pipeline=[numpy_step], replicates=6,
                     plugins=[SeedPlugin(seed=8), ParallelExecution(max_workers=2)]).run()
    assert par.metrics.baseline.metrics == serial.metrics.baseline.metrics


def test_logging_plugin_reports_progress(caplog):
    caplog.set_level(logging.INFO, logger="crystallize")
    exp = Experiment(name="logged", datasource={"p": 0.5}, pipeline=[coin_game], replicates=2,
                     plugins=[LoggingPlugin(verbose=True)])
    exp.run()
    text = caplog.text
    assert "of logged started" in text
    assert "baseline #1 metric win" in text
    assert "baseline #0 finished" in text
    assert "completed" in text and "2 replicates finished, 0 failed" in text


def artifact_step(config, ctx):
    path = ctx.artifacts.save("state.json", {"replicate": ctx.replicate})
    ctx.artifacts.save("notes/log.txt", "hello")
    ctx.metrics.add("size", path.stat().st_size)


def test_artifacts_go_to_versioned_per_replicate_folders(tmp_path):
    events = []
    exp = Experiment(name="art", pipeline=[artifact_step], replicates=2,
                     treatments=[Treatment("t", {})],
                     plugins=[ArtifactPlugin(root_dir=tmp_path, versioned=True)])
    exp.subscribe(events.append)
    exp.run()
    exp.run()
    assert (tmp_path / "art/v0/baseline/replicate_0/state.json").read_text().count('"replicate": 0')
    assert (tmp_path / "art/v0/t/replicate_1/notes/log.txt").read_text() == "hello"
    assert (tmp_path / "art/v1/t/replicate_1/state.json").exists()
    saved = [e for e in events if isinstance(e, ArtifactSaved)]
    assert len(saved) == 2 * 2 * 2 * 2  # runs x conditions x replicates x files
    assert all(len(e.sha256) == 64 and e.size > 0 for e in saved)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a/../../b", "..", ""])
def test_artifact_names_that_would_escape_are_refused(tmp_path, name):
    def step(config, ctx):
        ctx.artifacts.save(name, "x")

    result = Experiment(pipeline=[step], plugins=[ArtifactPlugin(root_dir=tmp_path)]).run()
    assert "ValueError: artifact name" in result.errors[0].error
    assert not (tmp_path / "escape.txt").exists()


def test_artifacts_without_the_plugin_explain_what_is_missing():
    def step(config, ctx):
        ctx.artifacts.save("x", "y")

    result = Experiment(pipeline=[step]).run()
    assert "needs ArtifactPlugin" in result.errors[0].error


def test_a_plugin_failing_before_the_run_names_itself():
    class NeedsGPU(Plugin):
        def before_run(self, run):
            raise RuntimeError("CUDA not available")

    with pytest.raises(PluginError, match="plugin NeedsGPU failed in before_run: RuntimeError: CUDA not available"):
        Experiment(pipeline=[coin_game], datasource={"p": 1}, plugins=[NeedsGPU()]).run()


def test_plugin_hooks_fire_in_order_with_their_arguments():
    calls = []

    class Recorder(Plugin):
        def before_run(self, run):
            calls.append(("before_run", run.conditions, run.replicates))

        def before_replicate(self, ctx):
            calls.append(("before_replicate", ctx.treatment, ctx.replicate))

        def before_step(self, ctx, step):
            calls.append(("before_step", step))

        def after_step(self, ctx, step, output):
            calls.append(("after_step", step, len(output)))

        def after_replicate(self, ctx, result):
            calls.append(("after_replicate", result.status, sorted(result.metrics)))

        def after_run(self, run, result):
            calls.append(("after_run", result.status))

    Experiment(pipeline=[coin_game], datasource={"p": 1}, plugins=[Recorder()]).run()
    assert calls == [
        ("before_run", ("baseline",), 1),
        ("before_replicate", "baseline", 0),
        ("before_step", "coin_game"),
        ("after_step", "coin_game", 3),
        ("after_replicate", "ok", ["score", "win"]),
        ("after_run", "completed"),
    ]
