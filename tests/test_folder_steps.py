"""experiment.yaml steps with fixed arguments (`with:`) and modules from the workspace's lib/."""

from __future__ import annotations

import re

import pytest
from cli_support import write, write_experiment

from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.fingerprint import fingerprint_parts
from crystallize_tui.core.folders import discover, load_experiment

SCORING = '''
from helpers import offset

def score(data, ctx, scale, bonus=0):
    ctx.metrics.add("v", data["x"] * scale + bonus + offset())
'''
GAME = '''
from scoring import score as shared_score  # a lib/ module, imported like a sibling

def make(config):
    return {"x": config["x"], "same": shared_score.__module__}
'''
YAML = '''
pipeline:
  - game:make
  - step: scoring:score
    with: {{{with_}}}
datasource: {{x: 2}}
replicates: 2
'''


def _workspace(tmp_path, with_="scale: 3, bonus: 1", lib="experiments/lib"):
    write(tmp_path / lib, {"scoring.py": SCORING, "helpers.py": "def offset():\n    return 100\n"})
    return write_experiment(tmp_path, "a", YAML.format(with_=with_), {"game.py": GAME})


def test_with_arguments_and_lib_modules_run_in_spawned_workers(tmp_path):
    folder = _workspace(tmp_path)
    experiment = load_experiment(folder)
    experiment.store = None
    result = experiment.run(echo=False, backend="processes", workers=2, start_method="spawn")
    assert result.errors == []
    assert result.metrics["baseline"].metrics["v"] == [107, 107]  # 2*3 + 1 + lib/helpers' 100
    # lib/ holds modules, not experiments: the workspace lists only "a"
    assert [e.name for e in discover(tmp_path).experiments] == ["a"]


def test_workspace_root_lib_and_fingerprint_without_addresses(tmp_path):
    folder = _workspace(tmp_path, lib="lib")
    first = load_experiment(folder)
    again = load_experiment(folder, reload=True)  # new function objects, same code
    configs = {"baseline": {"x": 2}}
    assert fingerprint_parts(configs, first.steps(), 0) == fingerprint_parts(configs, again.steps(), 0)
    (folder / "experiment.yaml").write_text(YAML.format(with_="scale: 4"))
    changed = load_experiment(folder, reload=True)
    assert fingerprint_parts(configs, changed.steps(), 0) != fingerprint_parts(configs, first.steps(), 0)
    changed.store = None
    assert changed.run(echo=False).metrics["baseline"].metrics["v"] == [108, 108]


@pytest.mark.parametrize(("with_", "message"), [
    ("scale: 3, bonnus: 1", "experiment.yaml:5: pipeline[1].with.bonnus: step 'scoring:score' takes "
                            "no argument 'bonnus' (did you mean 'bonus'?); it takes: scale, bonus"),
    ("bonus: 1", "experiment.yaml:5: pipeline[1].with: step 'scoring:score' needs 'scale'; give it "
                 "under with:"),
    ("scale: 1, ctx: 2", "experiment.yaml:5: pipeline[1].with.ctx: step 'scoring:score' receives "
                         "'ctx' from the pipeline (its ctx)"),
])
def test_bad_with_arguments_name_file_line_step_and_key(tmp_path, with_, message):
    folder = _workspace(tmp_path, with_=with_)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_experiment(folder)


def test_paths_leaving_the_folder_are_refused(tmp_path):
    folder = _workspace(tmp_path)
    (folder / "experiment.yaml").write_text("pipeline:\n  - step: ../lib/scoring:score\n")
    with pytest.raises(ConfigError, match=r"experiment.yaml:2: pipeline\[0\].step: '../lib/scoring:score' "
                                          r"is a path; name a module of the experiment's folder or of "
                                          r"the workspace's lib/"):
        load_experiment(folder)
