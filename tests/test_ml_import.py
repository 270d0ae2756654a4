"""Coming from crystallize-ml: an old config.yaml folder is detected (list, run, the TUI home)
and `crystallize import` converts it, naming what it could not convert."""

from __future__ import annotations

from pathlib import Path

from cli_support import cli, write
from textual.widgets import Static, Tree
from tui_support import COIN, GAME, app_for, home_ready, text_of, until

from crystallize_tui.core.folders import load_experiment

# crystallize-ml's folder_experiment, as its users have it.
CONFIG = """\
name: adder
datasource:
  numbers: numbers
steps:
  - add_one
outputs:
  out:
    file_name: out.txt
hypotheses:
  - metrics: val
    name: h
    verifier: always_sig
treatments:
  increase_by_two:
    delta: 2
replicates: 3
"""
ML_STEPS = """\
from crystallize import pipeline_step, Artifact

@pipeline_step()
def add_one(data, ctx, out: Artifact, *, delta: int = 1):
    out.write(str(data + delta).encode())
    ctx.metrics.add("val", data + delta)
    return {"val": data + delta}
"""
# The same functions as the notes ask: plain, reading the treatment's value from ctx.config.
PLAIN_STEPS = """\
def add_one(data, ctx):
    value = data + ctx.config.get("delta", 1)
    ctx.artifacts.save("out.txt", str(value))
    return value, {"val": value}
"""
PLAIN_SOURCES = "def numbers(config, ctx):\n    return 1\n"
HINT = ("experiments/old/config.yaml: a crystallize-ml experiment (config.yaml, no experiment.yaml); "
        "convert it with `crystallize import experiments/old`")


def old_folder(root: Path) -> Path:
    folder = root / "experiments" / "old"
    write(folder, {"config.yaml": CONFIG, "steps.py": ML_STEPS,
                   "datasources.py": "from crystallize import data_source\n\n@data_source\n" + PLAIN_SOURCES})
    return folder


def test_list_and_run_tell_how_to_convert_and_import_writes_experiment_yaml_with_notes(tmp_path):
    folder = old_folder(tmp_path)
    listed = cli(tmp_path, "list")
    assert listed.returncode == 0 and HINT in listed.stderr
    ran = cli(tmp_path, "run", "old")
    assert ran.returncode == 2 and ran.stderr.strip() == f"crystallize: error: {HINT}"
    write(tmp_path / "legacy", {"config.yaml": CONFIG})  # outside experiments/
    outside = cli(tmp_path, "run", "legacy")
    assert outside.returncode == 2 and outside.stderr.strip() == (
        "crystallize: error: legacy is a crystallize-ml experiment (config.yaml); convert it with "
        "`crystallize import legacy` and move it to experiments/legacy/")
    imported = cli(tmp_path, "import", "experiments/old")
    assert imported.returncode == 0, imported.stderr
    out = imported.stdout
    assert "wrote experiments/old/experiment.yaml" in out
    assert "outputs.out (out.txt) not converted: save it in the step with ctx.artifacts.save('out.txt'" in out
    assert "hypotheses[0] h (verifier always_sig) not converted" in out
    assert "steps.py imports crystallize-ml: drop its decorators" in out
    assert "datasource numbers: became the first step datasources:numbers; make it numbers(config, ctx)" in out
    # experiments are found by folder (old), not by the YAML's name (adder)
    assert "then: crystallize run-once old " in out
    hinted = cli(tmp_path, "run-once", "old")  # found, though its steps still import crystallize-ml
    assert "no experiment named" not in hinted.stderr and "datasources" in hinted.stderr
    again = cli(tmp_path, "import", "experiments/old")
    assert again.returncode == 2 and "experiment.yaml already exists" in again.stderr
    # Finished by hand as the notes say, the converted experiment runs.
    write(folder, {"steps.py": PLAIN_STEPS, "datasources.py": PLAIN_SOURCES})
    experiment = load_experiment(folder)
    assert experiment.name == "adder" and experiment.conditions == ["baseline", "increase_by_two"]
    result = experiment.run(echo=False)
    assert not result.errors, result.errors
    assert result.metrics["increase_by_two"].metrics["val"] == [3, 3, 3]
    assert (folder / "artifacts" / "adder" / "v0" / "baseline" / "replicate_0" / "out.txt").read_text() == "2"


async def test_the_home_screen_says_how_to_convert_an_old_folder(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    old_folder(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        tree = home.query_one("#experiments", Tree)
        node = next(tree.get_node_at_line(i) for i in range(tree.last_line + 1)
                    if tree.get_node_at_line(i).data and tree.get_node_at_line(i).data[0] == "error")
        tree.move_cursor(node)
        details = home.query_one("#details", Static)
        await until(pilot, lambda: "crystallize import" in text_of(details))
        shown = "".join(text_of(details).split())  # wrapped at the pane's width
        assert f"convertitwith`crystallizeimport{tmp_path / 'experiments' / 'old'}`" in shown


def test_a_name_leaving_the_folder_is_not_carried_over(tmp_path):
    from crystallize_tui.core.ml_import import convert

    folder = tmp_path / "experiments" / "old"
    write(folder, {"config.yaml": CONFIG.replace("name: adder", "name: ../../etc")})
    conversion = convert(folder)
    assert conversion.name == "old" and "name: old\n" in conversion.text
    assert any(n.startswith("name: experiment name '../../etc' must not contain '/'") for n in conversion.notes)


def test_step_parameters_become_with_arguments_and_the_converted_step_gets_them(tmp_path):
    folder = tmp_path / "experiments" / "old"
    write(folder, {"config.yaml": CONFIG.replace("  - add_one\n", "  - add_one:\n      delta: 5\n"),
                   "steps.py": ML_STEPS, "datasources.py": PLAIN_SOURCES})
    imported = cli(tmp_path, "import", "experiments/old")
    assert imported.returncode == 0, imported.stderr
    assert "were not converted" not in imported.stdout
    text = (folder / "experiment.yaml").read_text()
    assert "pipeline: ['datasources:numbers', {step: 'steps:add_one', with: {delta: 5}}]" in text, text
    # The step as the notes leave it (decorators and Artifact dropped): with: passes delta.
    write(folder, {"steps.py": "def add_one(data, ctx, *, delta: int = 1):\n"
                               "    ctx.metrics.add('val', data + delta)\n    return data + delta\n"})
    result = load_experiment(folder).run(echo=False)
    assert not result.errors, result.errors
    assert result.metrics["baseline"].metrics["val"] == [6, 6, 6]
