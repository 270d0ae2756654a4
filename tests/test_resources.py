"""Resources shared across replicates: built once per process at first use, closed at the end."""

import textwrap

import pytest
from cli_support import write_experiment
from resource_steps import (
    Client,
    broken,
    model,
    scaled,
    use_broken,
    use_model,
    use_scaled,
    use_unknown,
)

from crystallize_tui import ConfigError, Experiment, Treatment, resource
from crystallize_tui.core.folders import load_experiment


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "resources.log"
    path.write_text("")
    monkeypatch.setenv("ASYNC_RESOURCE_LOG", str(path))
    return lambda: [tuple(line.split()) for line in path.read_text().splitlines()]


def _experiment(pipeline, resources, replicates=6):
    return Experiment(name="res", pipeline=pipeline, replicates=replicates, store=None,
                      datasource={"p": 0.5}, treatments=[Treatment("more", {"p": 0.7})],
                      resources=resources)


@pytest.mark.parametrize("options", [{}, {"backend": "threads", "workers": 3}], ids=["serial", "threads"])
def test_built_once_in_this_process_and_torn_down_at_the_end(log, options):
    result = _experiment([use_model], {"model": model, "client": Client}).run(echo=False, **options)
    assert result.status == "completed"
    assert [int(v) for v in result.metrics["more"].metrics["w"]] == [10] * 6
    assert result.metrics["baseline"].metrics["client"] == [True] * 6
    entries = log()
    assert sorted(what + " " + name for what, name, _ in entries) == [
        "build client", "build model", "close client", "close model"]
    assert len({pid for *_, pid in entries}) == 1


def test_each_worker_process_builds_its_own_once(log):
    import os

    exp = _experiment([use_model], {"model": model, "client": Client}, replicates=10)
    exp.execution = {"backend": "processes", "workers": 2, "chunk": 1}
    result = exp.run(echo=False)
    assert result.status == "completed"
    builds = [pid for what, name, pid in log() if (what, name) == ("build", "model")]
    closes = [pid for what, name, pid in log() if (what, name) == ("close", "model")]
    assert 1 <= len(builds) == len(set(builds)) <= 2  # at most once per worker
    assert sorted(closes) == sorted(builds) and str(os.getpid()) not in builds


def test_async_tasks_share_one_and_a_config_resource_is_built_per_config(log):
    result = _experiment([use_scaled], {"model": model, "scaled": scaled}, replicates=8).run(
        echo=False, backend="async", concurrency=8)
    assert result.metrics["baseline"].metrics["scaled"] == [50.0] * 8
    assert result.metrics["more"].metrics["scaled"] == [70.0] * 8
    assert sorted(name for what, name, _ in log() if what == "build") == ["model", "scaled-0.5", "scaled-0.7"]
    assert ("close", "model") in [(w, n) for w, n, _ in log()]


def test_a_failing_builder_fails_the_replicates_with_its_traceback_once_built(log):
    result = _experiment([use_broken], {"broken": broken}, replicates=3).run(echo=False)
    assert result.status == "failed" and len(result.errors) == 6
    first = result.errors[0]
    assert "RuntimeError: cannot load the weights" in first.error
    assert "in broken" in first.traceback and "in use_broken" in first.traceback
    later = result.errors[1]
    assert "resource 'broken' could not be built" in later.error and "cannot load the weights" in later.error
    assert log().count(("build", "broken", log()[0][2])) == 1  # not rebuilt for every replicate


def test_an_unknown_name_lists_the_declared_resources(log):
    seen = []

    def probe(data, ctx):
        seen.append(("model" in ctx.resources, "modle" in ctx.resources))
        return use_unknown(data, ctx)

    result = _experiment([probe], {"model": model, "client": Client}, replicates=1).run(echo=False)
    error = result.errors[0].error  # (also lists what @resource declared in this process)
    assert error.startswith("UnknownResource: no resource named 'modle'; declared resources: ")
    assert "client, model" in error
    assert seen == [(True, False)] * 2  # baseline and treatment
    assert log() == []  # nothing built: resources are lazy, `in` only looks at the names


def test_decorator_and_yaml_declarations(tmp_path, log):
    @resource(name="answer")
    def build_answer():
        return 42

    def step(data, ctx):
        ctx.metrics.add("a", ctx.resources["answer"])

    assert Experiment(pipeline=[step], store=None).run().metrics["baseline"].metrics["a"] == [42]
    with pytest.raises(ConfigError, match="resource 'fast': fast is async"):
        async def fast():
            return 1
        Experiment(pipeline=[step], resources={"fast": fast})
    folder = write_experiment(tmp_path, "yamlres", textwrap.dedent("""
        pipeline: [steps:use]
        resources: {table: steps:make_table}
    """), {"steps.py": textwrap.dedent("""
        def make_table():
            return {"x": 3}

        def use(data, ctx):
            ctx.metrics.add("x", ctx.resources["table"]["x"])
    """)})
    exp = load_experiment(folder)
    exp.store = None
    assert exp.run().metrics["baseline"].metrics["x"] == [3]
    (folder / "experiment.yaml").write_text("pipeline: [steps:use]\nresources: {table: steps:nope}\n")
    with pytest.raises(ConfigError, match="resources.table"):
        load_experiment(folder)


def test_a_changed_resource_builder_refuses_resume_like_changed_step_code(tmp_path):
    folder = write_experiment(tmp_path, "resumed", textwrap.dedent("""
        pipeline: [steps:use]
        resources: {table: tables:make_table}
        replicates: 4
    """), {"steps.py": "def use(data, ctx):\n    ctx.metrics.add('x', ctx.resources['table']['x'])\n",
           "tables.py": "def make_table():\n    return {'x': 3}\n"})
    exp = load_experiment(folder)
    for _ in exp.stream():
        break  # cancelled after the first replicate: a run to resume
    (folder / "tables.py").write_text("def make_table():\n    return {'x': 4}\n")
    with pytest.raises(ConfigError) as refused:
        load_experiment(folder).run(resume=True)
    assert "code of resource 'table' changed" in str(refused.value)
    (folder / "tables.py").write_text("def make_table():\n    return {'x': 3}\n")  # as it ran
    resumed = load_experiment(folder).run(resume=True)
    assert resumed.status == "completed" and resumed.metrics["baseline"].metrics["x"] == [3] * 4
