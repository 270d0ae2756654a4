"""The README's commands as a new user types them, so the README cannot drift from the code:
each command listed here must appear in README.md word for word, and it runs through the real
CLI in a copy of the bundled experiments, exits as the README says and, where the README
shows its output, prints exactly that."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import COMMAND, cli_env, on_a_terminal

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")

# (what the README says, the words typed, the exit code the README promises). RUN stands for
# the ml_regularisation run the fixture makes; placeholders in the README (NAME, RUN_ID) are
# filled with a bundled experiment or that run.
COMMANDS: list[tuple[str, tuple[str, ...], int]] = [
    (".venv/bin/crystallize run social_deception", ("run", "social_deception"), 0),
    ("crystallize run NAME --concurrency 32", ("run", "social_deception", "--concurrency", "32", "-n", "3"), 0),
    ("crystallize run chain_summary --with-upstream", ("run", "chain_summary", "--with-upstream"), 0),
    ("crystallize history NAME [--plot METRIC]", ("history", "ml_regularisation", "--plot", "loss"), 0),
    ("crystallize show RUN_ID --compare fast slow --family", ("show", "RUN", "--compare", "strong_l2", "high_lr",
                                                              "--family", "table"), 0),
    ("an unknown condition name exits 2", ("show", "RUN", "--compare", "strong_l2", "nope"), 2),
    ("A metric, condition or run id that does not exist is a\none-line error", ("plot", "RUN", "los"), 2),
    ("crystallize cache                  # entries and size per step", ("cache",), 0),
    ("$ crystallize ps ", ("ps",), 0),
]


def crystallize(root: Path, *words: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``crystallize WORDS`` in ``root`` as in a pipe, with no COLUMNS/LINES of the test's
    terminal (the README's excerpts are what a pipe prints, unless they set them)."""
    environment = {k: v for k, v in cli_env(**env).items() if k not in ("COLUMNS", "LINES") or k in env}
    return subprocess.run([*COMMAND, *words], cwd=root, env=environment, capture_output=True,
                          text=True, timeout=120)


def excerpt_after(prompt: str) -> list[str]:
    """The README's output lines under ``$ PROMPT`` (up to the end of its fenced block)."""
    start = README.index(prompt)
    block = README[README.index("\n", start) + 1:README.index("```", start)]
    return [line.rstrip() for line in block.splitlines()]


def fenced_block_starting(first_line: str) -> list[str]:
    """The README's fenced block whose first line is ``first_line``."""
    start = README.index("```\n" + first_line) + 4
    return [line.rstrip() for line in README[start:README.index("```", start)].splitlines()]


def printed(output: str, first: str, count: int) -> list[str]:
    """``count`` lines of a command's output from the line equal to ``first`` (stripped)."""
    lines = [line.rstrip() for line in output.splitlines()]
    at = [i for i, line in enumerate(lines) if line.strip() == first.strip()]
    assert at, f"{first.strip()!r} not in the output:\n{output}"
    return lines[at[0]:at[0] + count]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the bundled experiments, with the README's regularisation run made in it."""
    root = tmp_path_factory.mktemp("docqa_readme")
    shutil.copytree(REPO / "experiments", root / "experiments",
                    ignore=shutil.ignore_patterns("__pycache__", "artifacts", ".crystallize"))
    proc = crystallize(root, "run", "ml_regularisation")
    assert proc.returncode == 0, proc.stderr
    run_id = re.match(r"run (\S+):", proc.stdout).group(1)
    (root / "ml_run.txt").write_text(proc.stdout)
    return root, run_id


def test_every_listed_command_is_in_the_readme_and_exits_as_it_says(workspace) -> None:
    root, run_id = workspace
    for said, words, code in COMMANDS:
        assert said in README, f"the README no longer says {said!r}: update this list"
        proc = crystallize(root, *(run_id if w == "RUN" else w for w in words))
        assert proc.returncode == code, (said, proc.stdout[-2000:], proc.stderr)
        if code == 2:
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # one line, as promised


def test_the_comparison_tables_are_what_the_readme_shows(workspace) -> None:
    root, _ = workspace
    shown = fenced_block_starting("                           ml_regularisation: treatments vs baseline")
    assert printed((root / "ml_run.txt").read_text(), shown[0], len(shown)) == shown
    shown = fenced_block_starting("                              ab_checkout: treatments vs baseline")
    proc = crystallize(root, "run", "ab_checkout")
    assert proc.returncode == 0, proc.stderr
    assert printed(proc.stdout, shown[0], len(shown)) == shown


def test_diff_and_the_terminal_chart_print_the_readmes_excerpts(workspace) -> None:
    root, run_id = workspace
    proc = crystallize(root, "diff", "social_deception", "baseline", "dolphin_spoilers")
    assert proc.stdout.splitlines() == excerpt_after("$ crystallize diff social_deception baseline dolphin_spoilers")
    proc = crystallize(root, "plot", run_id, "loss", COLUMNS="80", LINES="24")
    assert [line.rstrip() for line in proc.stdout.splitlines()] == excerpt_after(
        "$ COLUMNS=80 LINES=24 crystallize plot RUN loss")


def test_the_charts_sections_commands_run_on_the_bundled_run(workspace) -> None:
    root, run_id = workspace
    block = fenced_block_starting("crystallize show 20261130-084411-b9dccd --plot loss")
    ran = 0
    for line in block:
        words = line.split("#")[0].split()
        if "RUN_A" in words or "[--condition" in words:
            continue  # placeholders of two runs, an optional flag: covered by test_charts_cli
        words = [run_id if w == "20261130-084411-b9dccd" else w for w in words[1:]]
        proc = crystallize(root, *words)
        assert proc.returncode == 0, (line, proc.stderr)
        if "-o" in words:
            assert (root / words[words.index("-o") + 1]).read_text().lstrip().startswith(("<svg", "<?xml"))
        ran += 1
    assert ran == 4


def test_the_first_experiment_runs_as_written(workspace, tmp_path: Path) -> None:
    """The README's first Python block, pasted into a file and run."""
    start = README.index("```python\nfrom crystallize_tui import Experiment, Treatment, SeedPlugin")
    code = README[start + len("```python\n"):README.index("```", start + 3)]
    code += "\nprint(result.metrics.baseline.metrics['win'])\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "CRYSTALLIZE_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("game over") == 30
    comment = re.search(r'metrics\["win"\]\s+# (\[[0-9, ]+\])', code).group(1)
    assert proc.stdout.splitlines()[-1] == comment  # the values the README's comment shows


def test_ps_aligns_its_columns_on_a_terminal_and_tabs_them_in_a_pipe(workspace, tmp_path: Path) -> None:
    """The README's `crystallize ps` excerpt is a terminal's: one column under each header."""
    import sqlite3

    root, run_id = workspace
    store = tmp_path / "copy.db"
    shutil.copy(root / ".crystallize" / "crystallize.db", store)
    with sqlite3.connect(store) as conn:  # a run another machine is running: ps cannot check it
        conn.execute("UPDATE runs SET status = 'running', finished_at = NULL, host = 'lab-node-7' "
                     "WHERE run_id = ?", (run_id,))
    header, row = [line for line in on_a_terminal(root, "ps", "--store", str(store)).splitlines() if line][:2]
    assert "\t" not in header + row
    assert row.index("ml_regularisation") == header.index("experiment")
    assert row.index("lab-node-7") == header.index("host")
    piped = crystallize(root, "ps", "--store", str(store)).stdout.splitlines()
    assert piped[0].split("\t")[:2] == ["run id", "experiment"] and piped[1].split("\t")[0] == run_id


def test_the_files_and_imports_the_readme_names_exist() -> None:
    """Every picture, bench script, test and module path the README links or names is there,
    and every ``from crystallize_tui... import ...`` line of its Python blocks imports."""
    named = set(re.findall(r"\]\((screenshots/[^)]+)\)", README))
    named |= set(re.findall(r"\b((?:bench|tests|crystallize_tui)/[\w/]+\.(?:py|md))", README))
    missing = sorted(path for path in named if not (REPO / path).is_file())
    assert named and not missing, missing
    imports = re.findall(r"^\s*(from crystallize_tui[\w.]* import [\w, ]+)$", README, flags=re.M)
    assert len(imports) >= 8
    for line in imports:
        exec(line.strip(), {})  # an ImportError names what the README promises and is not there


def test_a_bounded_rows_assumption_names_its_bounds() -> None:
    """The README: the bounded sequence "assumes only that the paired differences lie in
    [-1, 1]"; a run's 0/1 row says so rather than citing bounds nobody declared."""
    from crystallize_tui import Experiment, Treatment
    from crystallize_tui.stats.sequential import SequentialDifference

    def flip(config, ctx):
        ctx.metrics.add("won", ctx.rng.random() < config["p"])

    experiment = Experiment(name="docqa_flips", datasource={"p": 0.5}, pipeline=[flip], replicates=40,
                            store=None, treatments=[Treatment("better", {"p": 0.6})])
    (row,) = experiment.run(echo=False, stop="decided", max_replicates=40).stop["rows"]
    assert row["assumes"] == "differences within [-1, 1]; exact at every n"
    assert SequentialDifference("bounded", low=-2, high=3).assumes.startswith("differences within [-2, 3];")


def test_ci_runs_the_readmes_test_command_word_for_word() -> None:
    """The README's opening says `.ci/run` runs its second command: keep them one."""
    command = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{command}\n```" in README
    assert "```bash\npython3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/crystallize\n```" in README


AGENTS = '''
import asyncio

in_flight = []

async def call(config, ctx):
    in_flight.append(ctx.replicate)
    await asyncio.sleep(0.2)
    ctx.metrics.add("overlap", len(in_flight))
    in_flight.remove(ctx.replicate)
'''


def test_async_alone_or_by_concurrency_replaces_the_yamls_pool(tmp_path: Path) -> None:
    """The README: `--concurrency 32` "alone means --backend async", and the async backend runs
    `concurrency` replicates in flight, "default 32": neither takes the YAML pool's 2 workers."""
    from cli_support import write_experiment

    write_experiment(tmp_path, "agents", "pipeline: [api:call]\nreplicates: 6\n"
                     "run: {backend: processes, workers: 2}\n", {"api.py": AGENTS})
    for words in (("--backend", "async"), ("--concurrency", "32")):
        proc = crystallize(tmp_path, "run", "agents", *words, "--json")
        assert proc.returncode == 0, (words, proc.stderr)
        overlap = max(dict(r["values"])["overlap"] for r in json.loads(proc.stdout)["replicate_results"])
        assert overlap == 6, (words, overlap)  # all 6 at once, not 2 by 2
