"""What the ``crystallize`` command prints, through its real entry point in a subprocess:
tracebacks in ``show``, the resume hint, closed pipes, refused flags, ``list``'s layout."""

import json
import shlex
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import cli, interrupt_once_stored, start_cli, stored_replicates, write
from test_cli import COIN_YAML, GAME

CHATTY = '''
def play(config, ctx):
    for i in range(config["lines"]):
        print(f"{ctx.treatment} #{ctx.replicate} says line {i} of its output")
    for k in range(config["metrics"]):
        ctx.metrics.add(f"m{k}", ctx.rng.random())
'''


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN_YAML, "game.py": GAME})
    write(tmp_path / "experiments" / "games" / "deep", {
        "experiment.yaml": "name: deepcoin\n" + COIN_YAML, "game.py": GAME})
    write(tmp_path / "experiments" / "slow", {
        "experiment.yaml": "pipeline: [game:play]\ndatasource: {p: 0.5, delay: 0.1}\n"
                           "replicates: 40\ntreatments: {fair: {}}\n",
        "game.py": GAME,
    })
    write(tmp_path / "experiments" / "chatty", {
        "experiment.yaml": "pipeline: [chat:play]\ndatasource: {lines: 20000, metrics: 1}\n"
                           "replicates: 20\ntreatments: {other: {}}\n",
        "chat.py": CHATTY,
    })
    return tmp_path


# -- 14: show ---------------------------------------------------------------------------

def test_show_ends_with_the_tracebacks_and_never_points_at_itself(workspace):
    run = cli(workspace, "run", "coin", "-t", "broken", "-n", "3")
    run_id = run.stdout.split("crystallize show ")[1].split()[0]
    shown = cli(workspace, "show", run_id)
    assert shown.returncode == 1
    assert "crystallize show" not in shown.stdout
    out = shown.stdout
    # after the statistics, where the eye lands: the traceback of the user's code, once,
    # under the three replicates that raised it
    assert out.index('game.py", line 8, in play') > out.index("verdict")
    assert out.count('raise ValueError("the board is on fire")') == 1
    assert "broken #0 (seed" in out and "broken #2 (seed" in out
    assert out.strip().splitlines()[-1].startswith(f"run {run_id} (failed) stored in")


# -- 15: the resume hint ----------------------------------------------------------------

def test_the_resume_hint_after_ctrl_c_is_a_command_that_works_as_printed(workspace):
    args = ["run", "slow", "-n", "30", "-t", "fair", "--set", "delay=0.1", "--seed", "7"]
    code, _, err = interrupt_once_stored(workspace, 3, *args)
    assert code == 130, err
    hint = err.split("continue with `")[1].split("`")[0]
    words = shlex.split(hint)
    assert words[0] == "crystallize" and "--resume" in words
    resumed = cli(workspace, *words[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert stored_replicates(workspace / ".crystallize" / "crystallize.db") == 60


# -- 16: a reader that closes the pipe ----------------------------------------------------

def first_lines_then_close(root: Path, n: int, *args: str) -> tuple[list[str], int, str]:
    """Like `crystallize ARGS | head -n N`: read N lines, close the pipe, let it finish."""
    err_file = root / f"stderr-{time.monotonic_ns()}.txt"
    with open(err_file, "w") as err:
        proc = start_cli(root, *args, stderr=err)
        lines = [proc.stdout.readline() for _ in range(n)]
        proc.stdout.close()
        code = proc.wait(timeout=120)
    return lines, code, err_file.read_text()


def test_run_into_a_closed_pipe_stops_quietly(workspace):
    lines, code, err = first_lines_then_close(workspace, 1, "run", "slow")
    assert lines[0].startswith("run ")
    assert code == 141 and err == ""
    conn = sqlite3.connect(workspace / ".crystallize" / "crystallize.db")
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "cancelled"


@pytest.mark.parametrize("workers", [[], ["-w", "2"]], ids=["serial", "processes"])
def test_echoed_print_output_into_a_closed_pipe_is_not_the_users_fault(workspace, workers):
    lines, code, err = first_lines_then_close(workspace, 3, "run", "chatty", "-v", *workers)
    assert code == 141 and err == ""
    conn = sqlite3.connect(workspace / ".crystallize" / "crystallize.db")
    statuses = {s for (s,) in conn.execute("SELECT status FROM replicates")}
    assert "failed" not in statuses


def test_run_once_verbose_into_a_closed_pipe_stops_quietly(workspace):
    lines, code, err = first_lines_then_close(workspace, 1, "run-once", "chatty", "-v")
    assert lines[0].startswith("config of baseline")
    assert code == 141 and err == ""


def test_export_into_a_closed_pipe_stops_quietly(workspace):
    write(workspace / "experiments" / "chatty", {
        "experiment.yaml": "pipeline: [chat:play]\ndatasource: {lines: 0, metrics: 20}\n"
                           "replicates: 100\ntreatments: {other: {}}\n"})
    run = cli(workspace, "run", "chatty")
    run_id = run.stdout.split("stored in")[0].split()[-2]
    lines, code, err = first_lines_then_close(workspace, 5, "export", run_id, "-f", "csv")
    assert lines[0].startswith("treatment,replicate,seed")
    assert code == 141 and err == ""


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_to_a_file_it_cannot_write_names_the_file_in_one_line(workspace, fmt):
    run = cli(workspace, "run", "coin", "-n", "3")
    run_id = run.stdout.split("stored in")[0].split()[-2]
    for target, why in ((workspace / "no" / "such" / "folder" / "r.out", "No such file or directory"),
                        (workspace / "experiments", "Is a directory")):
        out = cli(workspace, "export", run_id, "-f", fmt, "-o", str(target))
        assert out.returncode == 2, out.stderr
        assert out.stderr.strip().splitlines() == [
            f"crystallize: error: -o {target}: cannot write the file: {why}"]
    written = workspace / "r.out"
    out = cli(workspace, "export", run_id, "-f", fmt, "-o", str(written))
    assert out.returncode == 0 and out.stderr == f"wrote {written}\n"
    assert written.read_text().startswith("treatment,replicate" if fmt == "csv" else "{")


def test_an_error_line_into_a_closed_pipe_stops_quietly(workspace):
    # `crystallize run typo 2>&1 | head -0`: the reader left before the error line was written
    for args in (("run", "no-such-experiment"), ("list", "--strict")):
        write(workspace / "experiments" / "typo", {"experiment.yaml": "pipline: [game:play]\n"})
        proc = start_cli(workspace, *args, stdout=subprocess.DEVNULL)
        proc.stderr.close()  # before the command had the time to write anything
        assert proc.wait(timeout=120) == 141, args


# -- 17: flags that do nothing are refused or explained ------------------------------------

def test_force_without_resume_is_refused(workspace):
    out = cli(workspace, "run", "coin", "--force")
    assert out.returncode == 2
    assert out.stderr.startswith("crystallize: error: --force only applies with --resume")
    assert not (workspace / ".crystallize" / "crystallize.db").exists() or \
        stored_replicates(workspace / ".crystallize" / "crystallize.db") == 0


def test_resume_with_nothing_to_resume_says_so_and_runs_nothing(workspace):
    never = cli(workspace, "run", "coin", "-t", "biased", "--resume")
    assert never.returncode == 2
    assert "nothing to resume: no run of 'coin'" in never.stderr
    done = cli(workspace, "run", "coin", "-t", "biased")
    assert done.returncode == 0
    again = cli(workspace, "run", "coin", "-t", "biased", "--resume")
    assert again.returncode == 2
    assert "nothing to resume" in again.stderr and "completed" in again.stderr
    assert stored_replicates(workspace / ".crystallize" / "crystallize.db") == 12  # one run only


def test_run_once_beyond_the_experiments_replicates_says_whose_seed_it_uses(workspace):
    out = cli(workspace, "run-once", "coin", "-k", "99")
    assert out.returncode == 0
    assert "coin runs 6 replicates (0-5)" in out.stderr
    assert "-n 100 or more" in out.stderr
    assert "note" not in cli(workspace, "run-once", "coin", "-k", "5").stderr


# -- 18, 19: list --------------------------------------------------------------------------

def test_list_shows_each_experiments_own_folder(workspace):
    out = cli(workspace, "list")
    rows = {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()[1:]}
    assert rows["coin"] == "experiments/coin"
    assert rows["deepcoin"] == "experiments/games/deep"


def test_piped_tables_are_plain_one_line_per_row(workspace):
    listed = cli(workspace, "list").stdout.splitlines()
    assert listed[0].split() == ["name", "folder", "treatments", "replicates", "last", "run"]
    assert all(line == line.rstrip() for line in listed)
    assert len(listed) == 1 + 4
    long = "a_treatment_with_a_long_descriptive_name_nobody_abbreviated"
    yaml_file = workspace / "experiments" / "coin" / "experiment.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("biased:", f"{long}:")
                         .replace("[biased]", f"[{long}]"))
    out = cli(workspace, "run", "coin", "-t", long, "-t", "bigger")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # each comparison is one line holding its metric, treatment, test and verdict
    win = [line for line in lines if line.split()[:2] == ["win", long]]
    assert len(win) == 1 and "McNemar exact" in win[0] and "significant" in win[0]
    assert all(line == line.rstrip() for line in lines)


def test_list_exits_0_listing_good_and_broken_experiments_strict_exits_2(workspace):
    write(workspace / "experiments" / "typo", {"experiment.yaml": "pipline: [game:play]\n"})
    out = cli(workspace, "list")
    assert out.returncode == 0, out.stderr
    names = [line.split()[0] for line in out.stdout.splitlines()[1:]]
    assert sorted(names) == ["chatty", "coin", "deepcoin", "slow", "typo"]
    typo = next(line for line in out.stdout.splitlines() if line.startswith("typo"))
    assert "experiments/typo" in typo and "failed to load" in typo
    assert "1 experiment(s) failed to load" in out.stderr and "pipline" in out.stderr
    strict = cli(workspace, "list", "--strict")
    assert strict.returncode == 2 and "pipline" in strict.stderr


# -- 44: the statistics are ready when the last replicate ends -----------------------------

WAITER = '''
import sys
import time

def play(config, ctx):
    ready = True
    if ctx.replicate == config["last"]:
        # The step runs in the command's own process (serial run): it can see whether the
        # statistics were imported while the run went on. Generous limit, no timing claim.
        deadline = time.monotonic() + 60
        while "crystallize_tui.render.tables" not in sys.modules and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = "crystallize_tui.render.tables" in sys.modules
    ctx.metrics.add("ready", int(ready))
'''


def test_run_imports_the_statistics_while_the_replicates_run(workspace):
    write(workspace / "experiments" / "waiter", {
        "experiment.yaml": "pipeline: [w:play]\ndatasource: {last: 2}\nreplicates: 3\n",
        "w.py": WAITER})
    out = cli(workspace, "run", "waiter", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    last = next(r for r in doc["replicate_results"] if r["replicate"] == 2)
    assert dict(last["values"])["ready"] == 1
