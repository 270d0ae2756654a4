"""Hostile experiment.yaml files (alias bombs, deep nesting, huge files) through the real CLI."""

import pytest
from cli_support import cli, write_experiment

STEP = "def play(config, ctx):\n    ctx.metrics.add('x', 1)\n"


def _bomb() -> str:
    lines = ["pipeline: [game:play]", "datasource:", '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def _indented_mappings(depth: int) -> str:
    body = "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth))
    return "pipeline: [game:play]\ndatasource:\n" + body[:-1] + " 1\n"


HOSTILE = {
    "billion_laughs": _bomb(),
    "flow_lists_50000": "pipeline: [game:play]\ndatasource: {x: " + "[" * 50_000 + "]" * 50_000 + "}\n",
    "block_lists_50000": "pipeline: [game:play]\ndatasource:\n  x:\n    " + "- " * 50_000 + "1\n",
    "flow_mappings_3000": "pipeline: [game:play]\ndatasource: " + "{k: " * 3000 + "1" + "}" * 3000 + "\n",
    # Under libyaml's own limit of 1,000 levels: these parsed, then overflowed later.
    "flow_lists_990": "pipeline: [game:play]\ndatasource: {x: " + "[" * 990 + "]" * 990 + "}\n",
    "indented_mappings_990": _indented_mappings(990),
    "recursive_alias": "pipeline: [game:play]\ndatasource: {x: &a [1, *a]}\n",
    "huge_file": "pipeline: [game:play]\ndatasource:\n  data: [" + ", ".join(["12345"] * 300_000) + "]\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_is_refused_with_one_line_and_exit_2(tmp_path, case):
    write_experiment(tmp_path, case, HOSTILE[case], {"game.py": STEP})
    out = cli(tmp_path, "run", case, timeout=60)  # a hang fails; the refusal is immediate
    assert out.returncode == 2, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr[-2000:]
    assert f"experiments/{case}/experiment.yaml" in lines[0]
    assert "Traceback" not in out.stderr and not (tmp_path / ".crystallize").exists()


def test_ordinary_anchors_merges_and_nesting_still_load(tmp_path):
    nested = "{a: " * 20 + "1" + "}" * 20
    write_experiment(tmp_path, "fine", (
        "pipeline: [game:play]\n"
        "replicates: 2\n"
        "datasource:\n"
        "  defaults: &d {lr: 0.1, layers: [8, 8, 8]}\n"
        "  model: {<<: *d, lr: 0.2}\n"
        f"  deep: {nested}\n"
        "  code: |\n"
        "    if x: [[[[\n"
        "        - - - y\n"
        "description: >-\n"  # a diagonal drawn in text is not nesting
        + "".join(" " * (i + 2) + "\\\n" for i in range(150))
    ), {"game.py": STEP})
    out = cli(tmp_path, "run", "fine")
    assert out.returncode == 0, out.stderr
    assert "completed" in out.stdout
