"""``--set key=VALUE`` values are read under experiment.yaml's limits (alias bombs, deep
nesting): a one-line error naming the --set argument and exit 2, through the real CLI."""

import json

import pytest
from cli_support import cli, write_experiment

STEPS = '''
def step(config, ctx):
    ctx.metrics.add("n", len(str(config["x"])))
'''


@pytest.fixture
def workspace(tmp_path):
    write_experiment(tmp_path, "values", "pipeline: [steps:step]\ndatasource: {x: 1}\nreplicates: 2\n",
                     {"steps.py": STEPS})
    return tmp_path


def alias_bomb(levels: int) -> str:
    """A list whose aliases expand to 2**levels values ("billion laughs")."""
    names = [f"a{i}" for i in range(levels)]
    parts = ["&a0 [1, 1]"] + [f"&{names[i]} [*{names[i - 1]}, *{names[i - 1]}]"
                              for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


HOSTILE = {
    "alias bomb": (alias_bomb(18), "aliases (*name) expand this value to"),
    "lists 50,000 deep": ("[" * 50_000 + "]" * 50_000, "nested more than 100 levels deep"),
    "mappings 3,000 deep": ("{a: " * 3_000 + "1" + "}" * 3_000, "nested more than 100 levels deep"),
    "alias inside itself": ("&a [1, *a]", "refers to the value that contains it"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_set_values_are_refused_in_one_line(workspace, case):
    value, message = HOSTILE[case]
    out = cli(workspace, "run", "values", "--set", f"x={value}")
    assert out.returncode == 2, (out.stdout[-500:], out.stderr[-2000:])
    (line,) = out.stderr.splitlines()
    assert line.startswith("crystallize: error: --set x: ") and message in line
    assert "Traceback" not in out.stderr
    assert "stored in" not in out.stdout  # no run was started


def test_ordinary_set_values_with_aliases_still_work(workspace):
    out = cli(workspace, "run", "values", "--json", "--set", "x=[&a [1, 2], *a]")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["configs"]["baseline"]["x"] == [[1, 2], [1, 2]]


def test_invalid_yaml_in_set_names_the_argument(workspace):
    out = cli(workspace, "run", "values", "--set", "x=[1, 2")
    assert out.returncode == 2
    assert out.stderr == ("crystallize: error: --set x: YAML error: did not find expected ',' or "
                          "']' (while parsing a flow sequence)\n")


def test_a_repeated_key_in_a_set_value_is_refused_like_in_experiment_yaml(workspace):
    # PyYAML keeps the last value silently; experiment.yaml refuses it, and so does --set.
    out = cli(workspace, "run", "values", "--set", "x={a: 1, a: 2}")
    assert out.returncode == 2, out.stdout
    assert out.stderr == "crystallize: error: --set x: YAML error: duplicate key 'a' (first on line 1)\n"
    assert "stored in" not in out.stdout
