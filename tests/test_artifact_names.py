"""Experiment and treatment names cannot lead artifacts out of ArtifactPlugin's root_dir."""

import os
import subprocess
import sys
import textwrap

import pytest

from crystallize_tui import ArtifactPlugin, ConfigError, Experiment, Treatment
from crystallize_tui.core.errors import PluginError

BAD = ["../../x", "/an/absolute/name", "a/b", "..", "back\\slash", "tab\there"]


def save_step(config, ctx):
    ctx.artifacts.save("out.txt", "data")
    ctx.metrics.add("ok", 1)


def _written_files(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)


@pytest.mark.parametrize("name", BAD)
def test_bad_experiment_names_are_refused_by_the_api(tmp_path, name):
    with pytest.raises(ConfigError, match="experiment name"):
        Experiment(name=name, pipeline=[save_step])
    exp = Experiment(name="fine", pipeline=[save_step])
    with pytest.raises(ConfigError, match="experiment name"):
        exp.name = name


@pytest.mark.parametrize("name", BAD)
def test_bad_treatment_names_are_refused_by_the_api(name):
    with pytest.raises(ConfigError, match="treatment name"):
        Treatment(name, {})
    with pytest.raises(ConfigError, match="treatment name"):
        Experiment(pipeline=[save_step]).add_treatment(name, {})


def test_a_treatment_renamed_after_the_check_still_cannot_write_outside(tmp_path):
    root = tmp_path / "deep" / "root"
    treatment = Treatment("fine", {})
    treatment.name = "../../../escaped"  # a public attribute: the last guard is at the path
    exp = Experiment(name="exp", pipeline=[save_step], treatments=[treatment],
                     plugins=[ArtifactPlugin(root_dir=root)], store=tmp_path / "c.db")
    with pytest.raises(PluginError, match="treatment name .../../../escaped. would put artifacts outside"):
        exp.run()
    assert all(f.startswith("deep") or f.endswith(".db") or ".db-" in f
               for f in _written_files(tmp_path))
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()


def test_good_names_still_write_inside_the_root(tmp_path):
    exp = Experiment(name="exp 1 (lr=0.1)", pipeline=[save_step],
                     treatments=[Treatment("t:fast", {})],
                     plugins=[ArtifactPlugin(root_dir=tmp_path / "a")], store=tmp_path / "c.db")
    assert exp.run().status == "completed"
    assert (tmp_path / "a/exp 1 (lr=0.1)/v0/t:fast/replicate_0/out.txt").read_text() == "data"


def _cli(root, *args):
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    return subprocess.run([sys.executable, "-m", "crystallize_tui.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("where", ["name", "treatment"])
@pytest.mark.parametrize("bad", ["../../x", "ABSOLUTE"])
def test_yaml_names_that_would_escape_are_refused_with_file_and_key(tmp_path, where, bad):
    if bad == "ABSOLUTE":
        bad = str(tmp_path / "absolute-escape")
    workspace = tmp_path / "ws"
    folder = workspace / "experiments" / "exp"
    folder.mkdir(parents=True)
    name_line = f"name: {bad!r}\n" if where == "name" else ""
    treatments = f"treatments:\n  {bad!r}: {{}}\n" if where == "treatment" else ""
    (folder / "experiment.yaml").write_text(
        name_line + "pipeline: [steps:save]\nplugins:\n  artifacts: {root_dir: art}\n" + treatments)
    (folder / "steps.py").write_text(textwrap.dedent('''
        def save(config, ctx):
            ctx.artifacts.save("out.txt", "data")
    '''))
    before = _written_files(tmp_path)
    out = _cli(workspace, "run", bad if where == "name" else "exp")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "experiment.yaml" in lines[0] and bad in lines[0], out.stderr
    assert ("name:" if where == "name" else "treatments.") in lines[0]
    assert [f for f in _written_files(tmp_path) if f not in before and ".crystallize" not in f] == []
