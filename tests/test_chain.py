"""Chained experiments through the API: from_run reads another experiment's stored run."""

from __future__ import annotations

import json

import pytest

from crystallize_tui import ArtifactPlugin, ConfigError, Experiment, Store, Treatment, from_run
from crystallize_tui.core.chain_upstream import run_upstream, stale_reason
from crystallize_tui.core.folders import load_experiment


def make(config, ctx):
    value = round(ctx.rng.random() + config["shift"], 6)
    ctx.artifacts.save("value.json", {"value": value, "k": ctx.replicate})
    ctx.metrics.add("made", value)


def use(data, ctx):
    saved = json.loads(data.read_text())
    ctx.metrics.add("read", saved["value"])
    ctx.metrics.add("read_k", saved["k"])
    ctx.metrics.add("made_metric", data.metrics["made"])
    ctx.metrics.add("scale", data.config["scale"])
    ctx.metrics.add("from_wide", int(data.condition == "wide"))


def producer(tmp_path, **kw):
    return Experiment(name="producer", datasource={"shift": 0.0}, pipeline=[make], replicates=3,
                      treatments=[Treatment("wide", {"shift": 10.0})], store=tmp_path / "db.sqlite",
                      plugins=[ArtifactPlugin(tmp_path / "artifacts")], **kw)


def consumer(tmp_path, source, replicates=3):
    return Experiment(name="consumer", datasource=source, pipeline=[use], replicates=replicates,
                      treatments=[Treatment("wide", {"scale": 3}), Treatment("other", {"scale": 5})],
                      store=tmp_path / "db.sqlite")


def test_replicate_k_reads_the_producers_replicate_k_per_condition_and_the_run_is_recorded(tmp_path):
    made = producer(tmp_path).run()
    result = consumer(tmp_path, from_run("producer", artifact="value.json", config={"scale": 1})).run()
    assert result.complete and not result.errors
    for condition, source in (("baseline", "baseline"), ("wide", "wide"), ("other", "baseline")):
        got = result.metrics[condition].metrics
        assert got["read"] == made.metrics[source].metrics["made"]  # replicate k <- replicate k
        assert got["made_metric"] == made.metrics[source].metrics["made"]
        assert got["read_k"] == [0, 1, 2]
        assert got["from_wide"] == [int(source == "wide")] * 3
    assert result.metrics["other"].metrics["scale"] == [5, 5, 5]  # its own overrides
    store = Store(tmp_path / "db.sqlite")
    [consumed] = store.lineage(result.run_id)
    assert consumed["run_id"] == made.run_id and consumed["experiment"] == "producer"
    assert consumed["conditions"] == {"baseline": "baseline", "wide": "wide", "other": "baseline"}
    configs = json.loads(store.run_row(result.run_id)["configs"])
    assert configs["wide"]["upstream"]["run"] == made.run_id


def test_latest_completed_or_a_named_run_and_a_condition_mapping(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    assert stale_reason(producer(tmp_path), store) == "no completed run"
    first = producer(tmp_path).run()
    assert stale_reason(producer(tmp_path), store) is None
    assert stale_reason(producer(tmp_path, seed=5), store).startswith(
        f"changed since its latest completed run {first.run_id}")
    second = producer(tmp_path, seed=5).run()
    latest = consumer(tmp_path, from_run("producer", "value.json", config={"scale": 1})).run()
    assert latest.metrics["baseline"].metrics["read"] == second.metrics["baseline"].metrics["made"]
    named = consumer(tmp_path, from_run(producer(tmp_path), "value.json", run_id=first.run_id,
                                        condition={"baseline": "wide"}, config={"scale": 1})).run()
    assert named.metrics["baseline"].metrics["read"] == first.metrics["wide"].metrics["made"]
    assert Store(tmp_path / "db.sqlite").lineage(named.run_id)[0]["run_id"] == first.run_id


def test_missing_producer_run_replicates_and_artifact_are_one_line_errors(tmp_path):
    source = from_run("producer", artifact="value.json", config={"scale": 1})
    with pytest.raises(ConfigError, match=r"'consumer' reads from 'producer': 'producer' has no run in"):
        consumer(tmp_path, source).run()
    made = producer(tmp_path).run()
    with pytest.raises(ConfigError, match=rf"replicate 3 reads replicate 3 of 'producer' run {made.run_id} "
                                          r"condition 'baseline', which has no replicate 3 \(3 ok\)"):
        consumer(tmp_path, source, replicates=4).run()
    with pytest.raises(ConfigError, match=rf"'producer' run {made.run_id} has no artifact 'model.pkl' for "
                                          r"baseline #0 \(its artifacts: value.json\)"):
        consumer(tmp_path, from_run("producer", "model.pkl", config={"scale": 1})).run()
    with pytest.raises(ConfigError, match=r"no run 'nope' in"):
        consumer(tmp_path, from_run("producer", run_id="nope", config={"scale": 1})).run()
    with pytest.raises(ConfigError, match="artifact must be a relative file name"):
        from_run("producer", artifact="../../etc/passwd")
    assert [r.experiment for r in Store(tmp_path / "db.sqlite").runs()] == ["producer"]  # nothing recorded


def test_yaml_datasource_from_and_its_errors_name_the_file_line_and_key(tmp_path):
    folder = tmp_path / "experiments" / "reader"
    folder.mkdir(parents=True)
    (folder / "steps.py").write_text("def use(data, ctx):\n    pass\n")
    yaml_path = folder / "experiment.yaml"
    yaml_path.write_text("pipeline: [steps:use]\ndatasource: {from: producer, artifact: m.pkl, "
                         "run: R1, condition: {fast: wide}, config: {k: 1}}\n")
    source = load_experiment(folder).datasource
    assert (source.experiment, source.artifact, source.run_id) == ("producer", "m.pkl", "R1")
    assert source.condition == {"fast": "wide"} and source.config == {"k": 1}
    yaml_path.write_text("pipeline: [steps:use]\ndatasource:\n  from:\n    temp: {experiment: t, artifact: a.json}\n"
                         "    hum: {experiment: h, run: R2}\n  config: {k: 2}\n")
    source = load_experiment(folder).datasource
    assert {a: (s.experiment, s.artifact, s.run_id) for a, s in source.inputs.items()} == {
        "temp": ("t", "a.json", None), "hum": ("h", None, "R2")}
    assert source.config == {"k": 2}
    yaml_path.write_text("pipeline: [steps:use]\ndatasource:\n  from:\n    temp: {artifact: a.json}\n")
    with pytest.raises(ConfigError, match=r"experiment.yaml:4: datasource.from.temp: missing key 'experiment'"):
        load_experiment(folder)
    yaml_path.write_text("pipeline: [steps:use]\ndatasource:\n  from: producer\n  artifakt: m.pkl\n")
    with pytest.raises(ConfigError, match=r"experiment.yaml:4: datasource: unknown key 'artifakt' "
                                          r"\(did you mean 'artifact'\?\)"):
        load_experiment(folder)
    yaml_path.write_text("pipeline: [steps:use]\ndatasource: {from: producer, artifact: /etc/passwd}\n")
    with pytest.raises(ConfigError, match=r"experiment.yaml:2: datasource.artifact: artifact must be"):
        load_experiment(folder)
    yaml_path.write_text("pipeline: [steps:use]\ntreatments:\n  t: {datasource: {from: producer}}\n")
    with pytest.raises(ConfigError, match=r"experiment.yaml:3: treatments.t.datasource: `from:` reads "):
        load_experiment(folder)


def test_run_upstream_names_a_missing_producer_and_runs_stale_ones_first(tmp_path):
    def find(name):
        if name == "producer":
            return producer(tmp_path)
        raise ConfigError(f"no experiment named {name!r}")

    ghost = consumer(tmp_path, from_run("ghost", "value.json", config={"scale": 1}))
    with pytest.raises(ConfigError, match=r"^experiment 'consumer' reads from 'ghost': no experiment named 'ghost'$"):
        run_upstream(ghost, find, say=lambda line: None)
    said = []
    reader = consumer(tmp_path, from_run("producer", "value.json", config={"scale": 1}))
    made = run_upstream(reader, find, say=said.append)
    assert said[0] == "upstream producer: no completed run; running it first" and len(made) == 1
    assert run_upstream(reader, find, say=said.append) == [] and said[-1] == "upstream producer: up to date"
    assert reader.run().complete


def flaky(config, ctx):
    if ctx.replicate == 1:
        raise RuntimeError("lost the sample")
    ctx.artifacts.save("value.json", {"value": 1, "k": ctx.replicate})
    ctx.metrics.add("made", 1)


def test_a_failed_producer_replicate_is_named_with_its_error(tmp_path):
    made = Experiment(name="producer", datasource={"shift": 0.0}, pipeline=[flaky], replicates=3,
                      store=tmp_path / "db.sqlite", plugins=[ArtifactPlugin(tmp_path / "artifacts")]).run()
    with pytest.raises(ConfigError, match=r"has no completed run \(latest: .*, failed\); .* \(or name a "
                                          r"failed one, run: RUN_ID, to read its ok replicates\)$"):
        consumer(tmp_path, from_run("producer", "value.json", config={"scale": 1})).run()
    named = from_run("producer", "value.json", made.run_id, config={"scale": 1})
    with pytest.raises(ConfigError, match=rf"replicate 1 reads replicate 1 of 'producer' run {made.run_id} "
                                          r"condition 'baseline', which failed: RuntimeError: lost the sample; "
                                          r"run producer again"):
        consumer(tmp_path, named).run()
    assert consumer(tmp_path, named, replicates=1).run().complete  # replicate 0 is fine


def test_worker_processes_read_the_same_producer_replicates(tmp_path):
    made = producer(tmp_path).run()
    source = from_run("producer", "value.json", config={"scale": 1})
    pooled = consumer(tmp_path, source).run(backend="processes", workers=2)
    assert not pooled.errors, pooled.errors
    assert pooled.metrics["wide"].metrics["read"] == made.metrics["wide"].metrics["made"]
