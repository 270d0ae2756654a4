"""Experiment folders: experiment.yaml loading, error messages, module isolation, discovery, spawn."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from crystallize_tui import (
    ArtifactPlugin,
    ConfigError,
    Experiment,
    Hypothesis,
    LoggingPlugin,
    ParallelExecution,
    SeedPlugin,
)
from crystallize_tui.core.folders import DiscoveryCache, discover, load_experiment, package_name

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "experiments"
EXAMPLES = ["ab_checkout", "ml_regularisation", "social_deception"]

STEP = """
def play(config, ctx):
    ctx.metrics.add("score", config["k"])
"""


def make(root: Path, rel: str, text: str, **modules: str) -> Path:
    """Write experiments/<rel>/experiment.yaml (and modules name=source) under ``root``."""
    folder = root / "experiments" / rel
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        target = folder / (name.replace(".", "/") + ".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source))
    path = folder / "experiment.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of ``path`` containing ``needle``."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    return str(info.value)


# -- the bundled examples ---------------------------------------------------------------
@pytest.mark.parametrize("example", EXAMPLES)
def test_bundled_examples_load_as_their_yaml_says(example):
    path = EXAMPLES_DIR / example / "experiment.yaml"
    spec = yaml.safe_load(path.read_text())
    exp = load_experiment(path.parent)
    assert isinstance(exp, Experiment)
    assert exp.source == path and exp.folder == path.parent
    assert exp.name == spec["name"] and exp.description == spec["description"]
    assert exp.conditions == ["baseline", *spec["treatments"]]
    assert (exp.replicates, exp.seed) == (spec["replicates"], spec["seed"])
    assert exp.hypotheses == [Hypothesis(**h) for h in spec["hypotheses"]]
    assert exp.config_for("baseline") == spec["datasource"]
    for name, entry in spec["treatments"].items():
        if "datasource" not in entry:  # plain overrides of top-level keys
            assert exp.config_for(name) == {**spec["datasource"], **entry}
    assert [fn.__name__ for fn in exp.pipeline] == [r.split(":")[1] for r in spec["pipeline"]]


def test_whole_config_swap_stays_a_function_until_resolved():
    exp = load_experiment(EXAMPLES_DIR / "social_deception" / "experiment.yaml")
    swap = next(t for t in exp.treatments if t.name == "gemma_prey")
    assert callable(swap.datasource) and swap.datasource.__name__ == "gemma_config"
    assert exp.config_for("gemma_prey") == {"models": ["dolphin-llama3", "gemma3"], "players": 6, "turn_delay": 0}


def test_smallest_example_runs():
    exp = load_experiment(EXAMPLES_DIR / "ab_checkout")
    exp.store = None
    result = exp.run(replicates=2, echo=False)
    assert result.status == "completed"
    for name in exp.conditions:
        assert len(result.metrics[name].metrics["converted"]) == 2


# -- what the YAML may say ---------------------------------------------------------------
def test_plugins_treatments_and_references(tmp_path):
    marker = tmp_path / "called"
    path = make(tmp_path, "full", """
        description: all the options
        pipeline: [game:play, steps.extra:finish]
        datasource: conf:base
        seed: 9
        treatments:
          bigger: {nested: {b: 3}}
          swapped: {datasource: {k: 10, nested: {a: 0}}, overrides: {k: 11}}
          same:
        hypotheses:
          - {metric: score, direction: greater, test: welch, alpha: 0.1, treatments: bigger}
        plugins:
          parallel: {max_workers: 2, kind: thread}
          seed: {auto_seed: false}
          logging: {verbose: true}
          artifacts: {root_dir: out, versioned: false}
        """, game=STEP, conf=f"""
        from pathlib import Path
        def base():
            Path({str(marker)!r}).write_text("yes")
            return {{"k": 1, "nested": {{"a": 1, "b": 2}}}}
        """, **{"steps.extra": "from game import play  # the folder's top level, from a subfolder\n"
                         "def finish(config, ctx):\n    ctx.metrics.add('done', 1)\n"})
    exp = load_experiment(path)
    assert exp.name == "full" and exp.seed == 9  # the folder's name by default
    assert not marker.exists(), "loading must not call datasource functions"
    assert exp.config_for("bigger") == {"k": 1, "nested": {"a": 1, "b": 3}}
    assert exp.config_for("swapped") == {"k": 11, "nested": {"a": 0}}
    assert exp.config_for("same") == exp.config_for("baseline")
    assert marker.exists()
    assert exp.hypotheses == [Hypothesis("score", "greater", "welch", 0.1, ("bigger",))]
    parallel, seed, logging, artifacts = exp.plugins
    assert isinstance(parallel, ParallelExecution) and (parallel.max_workers, parallel.kind) == (2, "thread")
    assert isinstance(seed, SeedPlugin) and (seed.seed, seed.auto_seed) == (9, False)
    assert isinstance(logging, LoggingPlugin) and logging.verbose
    assert isinstance(artifacts, ArtifactPlugin) and artifacts.root_dir == path.parent / "out"
    exp.store = None
    result = exp.run(echo=False)
    assert result.metrics["swapped"].metrics["score"] == [11]
    assert result.metrics["baseline"].metrics["done"] == [1]


def test_two_folders_with_the_same_module_names_keep_their_own_code(tmp_path):
    game = """
    from helper import VALUE
    def play(config, ctx):
        import helper  # a lazy import inside the step resolves in the same folder
        ctx.metrics.add("score", VALUE + helper.VALUE)
    """
    a = make(tmp_path, "a", "pipeline: [game:play]\n", game=game, helper="VALUE = 1\n")
    b = make(tmp_path, "b", "pipeline: [game:play]\n", game=game, helper="VALUE = 100\n")
    exp_a, exp_b = load_experiment(a), load_experiment(b)
    assert exp_a.pipeline[0].__module__ != exp_b.pipeline[0].__module__
    # Sibling imports stay inside each folder's package, never as top-level "helper".
    ours = [n for n, m in list(sys.modules.items()) if str(getattr(m, "__file__", "")).startswith(str(tmp_path))]
    assert ours and all(n.startswith(package_name(a.parent) + ".") or n.startswith(package_name(b.parent) + ".")
                        for n in ours), ours
    for exp, expected in ((exp_a, 2), (exp_b, 200), (exp_a, 2)):
        exp.store = None
        assert exp.run(echo=False).metrics["baseline"].metrics["score"] == [expected]


def test_step_functions_unpickle_in_a_fresh_interpreter(tmp_path):
    path = make(tmp_path, "fresh", "pipeline: [game:play]\n", game="from helper import K\ndef play(c):\n    return K\n",
                helper="K = 42\n")
    data = pickle.dumps(load_experiment(path).pipeline[0])
    code = "import pickle, sys; print(pickle.loads(sys.stdin.buffer.read())({}))"
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == "42"


def test_spawned_workers_import_the_folder_modules(tmp_path):
    path = make(tmp_path, "spawned", """
        pipeline: [game:play]
        datasource: {k: 1}
        replicates: 2
        treatments:
          more: {k: 5}
        plugins:
          parallel: {max_workers: 2, start_method: spawn}
        """, game="""
        from helper import BONUS
        def play(config, ctx):
            ctx.metrics.add("score", config["k"] + BONUS)
            # The parent marks its copy of this module: a spawned worker imports its own.
            ctx.metrics.add("fresh", int("IN_PARENT" not in globals()))
        """, helper="BONUS = 10\n")
    exp = load_experiment(path)
    sys.modules[exp.pipeline[0].__module__].IN_PARENT = True
    exp.store = None
    result = exp.run(echo=False)
    assert result.status == "completed", result
    assert result.metrics["baseline"].metrics["score"] == [11, 11]
    assert result.metrics["more"].metrics["score"] == [15, 15]
    assert result.metrics["more"].metrics["fresh"] == [1, 1]


# -- errors ------------------------------------------------------------------------------
ERRORS = [
    # (yaml, modules, needle on the faulty line, fragments the message must contain)
    ("pipeline: [game:play]\nreplicate: 3\n", {}, "replicate:", ["unknown key 'replicate'", "did you mean 'replicates'"]),
    ("pipeline: [game:play]\nplugins:\n  paralel: {}\n", {}, "paralel", ["'paralel'", "did you mean 'parallel'"]),
    ("pipeline: [game:play]\nplugins:\n  parallel:\n    max_worker: 2\n", {}, "max_worker",
     ["plugins.parallel", "'max_worker'", "did you mean 'max_workers'"]),
    ("pipeline: [game:play]\nhypotheses:\n  - metric: score\n    directon: less\n", {}, "directon",
     ["hypotheses[0]", "'directon'", "did you mean 'direction'"]),
    ("pipeline: [game:play]\ntreatments:\n  t:\n    datasource: {k: 2}\n    overides: {k: 3}\n", {}, "overides",
     ["treatments.t", "'overides'", "did you mean 'overrides'"]),
    ("pipeline:\n  - game:play\n  - gam:play\n", {}, "gam:play", ["pipeline[1]", "no module 'gam'", "did you mean 'game'"]),
    ("pipeline: [game:ply]\n", {}, "game:ply", ["pipeline[0]", "no function 'ply'", "did you mean 'play'", "play"]),
    ("pipeline: [broken:play]\n", {"broken": "X = 1\nraise RuntimeError('no GPU here')\n"}, "broken:play",
     ["pipeline[0]", "'broken'", "RuntimeError: no GPU here", "broken.py, line 2"]),
    ("pipeline: [bad:play]\n", {"bad": "def play(:\n"}, "bad:play", ["'bad'", "SyntaxError"]),
    ("pipeline: [game:play]\nreplicates: 0\n", {}, "replicates", ["replicates", "got 0"]),
    ("pipeline: [game:play]\nreplicates: five\n", {}, "replicates", ["replicates", "'five'"]),
    ("pipeline: [game:play]\nreplicates: true\n", {}, "replicates", ["replicates", "True"]),
    ("pipeline: [game:play]\nseed: 1.5\n", {}, "seed", ["seed", "integer", "1.5"]),
    ("pipeline: game:play\n", {}, "pipeline", ["pipeline", "list", "'game:play'"]),
    ("pipeline: []\n", {}, "pipeline", ["pipeline", "non-empty list"]),
    ("pipeline:\n  - game:play\n  - 42\n", {}, "42", ["pipeline[1]", "module:function", "42"]),
    ("pipeline: [game.play]\n", {}, "pipeline", ["pipeline[0]", "module:function", "'game.play'"]),
    ("description: no steps\n", {}, "description", ["pipeline: missing"]),
    ("pipeline: [game:play]\ntreatments: [a, b]\n", {}, "treatments", ["treatments", "mapping", "list"]),
    ("pipeline: [game:play]\ntreatments:\n  a: [1, 2]\n", {}, "a: [1", ["treatments.a", "mapping of overrides"]),
    ("pipeline: [game:play]\ntreatments:\n  baseline: {k: 2}\n", {}, "baseline:", ["treatments.baseline", "reserved"]),
    ("pipeline: [game:play]\ndatasource: 5\n", {}, "datasource", ["datasource", "mapping", "5"]),
    ("pipeline: [game:play]\ndatasource: game:play\n", {}, "datasource", ["datasource", "no arguments", "config"]),
    ("pipeline: [game:play]\nhypotheses: {metric: x}\n", {}, "hypotheses", ["hypotheses", "list"]),
    ("pipeline: [game:play]\nhypotheses:\n  - metric: score\n    bounds: [100, 0]\n", {}, "bounds:",
     ["hypotheses[0].bounds", "low < high", "[100, 0]"]),
    ("pipeline: [game:play]\nhypotheses:\n  - metric: score\n    bounds: [0, .inf]\n", {}, "bounds:",
     ["hypotheses[0].bounds", "finite", "inf"]),
    ("pipeline: [game:play]\nhypotheses:\n  - metric: score\n    bounds: [zero, 1]\n", {}, "bounds:",
     ["hypotheses[0].bounds", "'zero'"]),
    ("pipeline: [game:play]\nhypotheses:\n  - {metric: score, anytime: betting}\n", {}, "anytime",
     ["hypotheses[0]", "anytime 'betting' needs the metric's bounds"]),
    ("pipeline: [game:play]\nhypotheses:\n  - {metric: score, bounds: [0, 1]}\n  - {metric: score, bounds: [0, 100]}\n",
     {}, "[0, 100]", ["hypotheses[1]", "bounds [0.0, 100.0] (bounded) differ from", "[0.0, 1.0]"]),
    ("pipeline: [game:play]\nhypotheses:\n  - {metric: score, direction: up}\n", {}, "direction: up",
     ["hypotheses[0]", "direction", "'up'"]),
    ("pipeline: [game:play]\ntreatments: {big: {k: 2}}\nhypotheses:\n  - {metric: score, treatments: [bgi]}\n", {},
     "bgi", ["hypotheses[0].treatments", "'bgi'", "did you mean 'big'"]),
    ("pipeline: [game:play]\nplugins:\n  logging: {verbose: 'yes'}\n", {}, "verbose", ["plugins.logging.verbose", "bool", "'yes'"]),
    ("pipeline: [game:play]\nplugins:\n  parallel: {max_workers: 0}\n", {}, "parallel", ["plugins.parallel", "max_workers", "0"]),
    ("pipeline: [game:play]\nname: 12\n", {}, "name", ["name", "12"]),
    ("pipeline: [game:play]\nseed: 1\nseed: 2\n", {}, "seed: 2", ["duplicate key 'seed'", "line 2"]),
    ("pipeline: [game:play\nseed: 1\n", {}, None, ["YAML error"]),
    ("- pipeline\n", {}, None, ["mapping", "list"]),
]


@pytest.mark.parametrize("text, modules, needle, fragments", ERRORS)
def test_errors_name_file_line_and_key(tmp_path, text, modules, needle, fragments):
    path = make(tmp_path, "bad", text, game=STEP, **modules)
    message = error_of(path)
    shown = "experiments/bad/experiment.yaml"
    assert shown in message
    if needle is not None:
        assert f"experiment.yaml:{line_of(path, needle)}: " in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_error_for_missing_module_names_the_folder(tmp_path):
    path = make(tmp_path, "lost", "pipeline: [nowhere:play]\n")
    message = error_of(path)
    assert "'nowhere'" in message and str(path.parent) in message and "nowhere.py" in message


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = make(tmp_path, "syntax", "pipeline: [game:play]\ndatasource:\n  k: 1\n   j: 2\n", game=STEP)
    assert f"experiment.yaml:{line_of(path, 'j: 2')}: YAML error" in error_of(path)


def test_empty_file_and_missing_file(tmp_path):
    path = make(tmp_path, "empty", "# nothing yet\n")
    assert "experiments/empty/experiment.yaml: the file is empty" in error_of(path)
    assert "no experiment.yaml" in error_of(tmp_path)
    assert "no such file" in error_of(tmp_path / "missing.yaml")


# -- discovery -----------------------------------------------------------------------------
def test_discovery_lists_good_experiments_and_errors(tmp_path):
    make(tmp_path, "alpha", "pipeline: [game:play]\ndatasource: {k: 1}\n", game=STEP)
    make(tmp_path, "games/beta", "pipeline: [game:play]\ndatasource: {k: 2}\n", game=STEP)
    make(tmp_path, "broken", "pipeline: [game:play]\n", game="raise ValueError('bad module')\n")
    make(tmp_path, "exits", "pipeline: [game:play]\n", game="import sys\nsys.exit(3)\n")
    found = discover(tmp_path)
    assert [(f.name, f.folder) for f in found.experiments] == [("alpha", ""), ("beta", "games")]
    assert found.get("alpha").experiment.config_for() == {"k": 1}
    assert [e.path.parent.name for e in found.errors] == ["broken", "exits"]
    assert "ValueError: bad module" in found.errors[0].message
    assert "SystemExit" in found.errors[1].message
    assert discover(tmp_path / "nowhere").experiments == []


def test_duplicate_names_are_errors_naming_both_files(tmp_path):
    make(tmp_path, "one", "name: same\npipeline: [game:play]\n", game=STEP)
    make(tmp_path, "two", "name: same\npipeline: [game:play]\n", game=STEP)
    make(tmp_path, "three", "pipeline: [game:play]\n", game=STEP)
    found = discover(tmp_path)
    assert [f.name for f in found.experiments] == ["three"]
    assert len(found.errors) == 2
    for error in found.errors:
        assert "experiments/one/experiment.yaml" in error.message
        assert "experiments/two/experiment.yaml" in error.message
        assert "'same'" in error.message


def test_cache_reuses_unchanged_and_reloads_edited_experiments(tmp_path):
    make(tmp_path, "kept", "pipeline: [game:play]\ndatasource: {k: 1}\n", game=STEP)
    edited = make(tmp_path, "edited", "pipeline: [game:play]\ndatasource: {k: 1}\n", game=STEP)
    cache = DiscoveryCache()
    first = discover(tmp_path, cache=cache)
    (edited.parent / "game.py").write_text("def play(config, ctx):\n    ctx.metrics.add('score', 1000)\n")
    second = discover(tmp_path, cache=cache)
    assert second.get("kept").experiment is first.get("kept").experiment
    exp = second.get("edited").experiment
    assert exp is not first.get("edited").experiment
    exp.store = None
    assert exp.run(echo=False).metrics["baseline"].metrics["score"] == [1000]


def test_discovering_fifty_experiments_is_fast(tmp_path):
    for i in range(50):
        make(tmp_path, f"group{i % 5}/exp{i:02d}", f"pipeline: [game:play]\ndatasource: {{k: {i}}}\nreplicates: 3\n",
             game=STEP)
    start = time.perf_counter()
    found = discover(tmp_path)
    elapsed = time.perf_counter() - start
    assert len(found.experiments) == 50 and not found.errors
    assert elapsed < 1.0, f"discovery of 50 experiments took {elapsed:.2f}s"
