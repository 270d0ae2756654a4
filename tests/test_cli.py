"""The ``crystallize`` command through its real entry point, in a subprocess."""

import json
import sqlite3

import pytest
from cli_support import cli, interrupt_once_stored, stored_replicates, write

GAME = '''
import time

def play(config, ctx):
    print(f"playing {ctx.treatment} #{ctx.replicate}")
    ctx.emit("turn", n=1)
    if config.get("broken"):
        raise ValueError("the board is on fire")
    time.sleep(config.get("delay", 0))
    ctx.metrics.add("win", int(ctx.rng.random() < config["p"]))
    ctx.metrics.add("score", ctx.rng.gauss(2 * config["p"], 1) + ctx.rng.random() * config["p"])
'''

COIN_YAML = '''
description: a coin with a bias
pipeline: [game:play]
datasource: {p: 0.3, board: {size: 9}}
replicates: 6
seed: 42
treatments:
  biased: {p: 0.8}
  bigger: {board: {size: 13}}
  broken: {broken: true}
hypotheses:
  - {metric: win, direction: greater, treatments: [biased]}
'''


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN_YAML, "game.py": GAME})
    write(tmp_path / "experiments" / "slow", {
        "experiment.yaml": "pipeline: [game:play]\ndatasource: {p: 0.5, delay: 0.15}\nreplicates: 40\n",
        "game.py": GAME,
    })
    return tmp_path


def test_help_for_every_subcommand(workspace):
    out = cli(workspace, "--help")
    assert out.returncode == 0
    for command in ("list", "run", "run-once", "diff", "history", "show", "export"):
        assert command in out.stdout
        sub = cli(workspace, command, "--help")
        assert sub.returncode == 0 and "--store" in sub.stdout and "--root" in sub.stdout


def test_list_shows_experiments_and_their_last_run(workspace):
    out = cli(workspace, "list")
    assert out.returncode == 0, out.stderr
    assert "coin" in out.stdout and "biased, bigger, broken" in out.stdout
    assert "never run" in out.stdout
    cli(workspace, "run", "coin", "-t", "biased")
    assert "failed" not in cli(workspace, "list").stdout
    assert "completed" in cli(workspace, "list").stdout


def test_list_reports_broken_experiments_without_hiding_the_others(workspace):
    write(workspace / "experiments" / "typo", {"experiment.yaml": "pipline: [game:play]\n"})
    out = cli(workspace, "list")
    assert out.returncode == 0  # the listing worked; `list --strict` exits 2 (test_cli_output)
    assert "coin" in out.stdout and "slow" in out.stdout
    assert "experiment.yaml" in out.stderr and "pipline" in out.stderr and "pipeline" in out.stderr


def test_run_prints_progress_statistics_and_stores_the_run(workspace):
    out = cli(workspace, "run", "coin", "-t", "biased", "-t", "bigger")
    assert out.returncode == 0, out.stderr
    assert "baseline: 6/6 done" in out.stdout and "biased: 6/6 done" in out.stdout
    assert "McNemar exact" in out.stdout and "paired t" in out.stdout  # win is 0/1, score is not
    assert "win greater in biased:" in out.stdout
    db = workspace / ".crystallize" / "crystallize.db"
    assert f"stored in {db}" in out.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM replicates").fetchone()[0] == 18
    assert "broken" not in out.stdout  # not selected


def test_run_overrides_without_editing_yaml(workspace):
    out = cli(workspace, "run", "coin", "--replicates", "3", "--treatment", "biased", "--set",
              "board.size=19", "--set", "p=0.5", "--seed", "7", "--workers", "2", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["conditions"] == ["baseline", "biased"]
    assert doc["replicates"] == 3 and doc["seed"] == 7
    assert doc["configs"]["baseline"] == {"p": 0.5, "board": {"size": 19}}
    assert doc["configs"]["biased"] == {"p": 0.5, "board": {"size": 19}}
    assert {r["treatment"] for r in doc["comparison"]} == {"biased"}


def test_a_failing_replicate_exits_1_and_points_at_the_tracebacks(workspace):
    out = cli(workspace, "run", "coin", "-t", "broken", "-n", "2")
    assert out.returncode == 1
    assert "ValueError: the board is on fire" in out.stdout
    run_id = out.stdout.split("crystallize show ")[1].split()[0]
    shown = cli(workspace, "show", run_id)
    assert shown.returncode == 1
    assert 'game.py", line 8, in play' in shown.stdout and "the board is on fire" in shown.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "coins"], "no experiment named 'coins'"),
        (["run", "coin", "-t", "dolphin"], "unknown condition 'dolphin'"),
        (["run", "coin", "--set", "board.sise=3"], "did you mean 'board.size'"),
        (["run", "coin", "--set", "nokey"], "expected key.path=value"),
        (["diff", "coin", "baseline", "nope"], "unknown condition 'nope'"),
        (["show", "no-such-run"], "no run 'no-such-run'"),
        (["run", "coin", "--store", "{root}/experiments"], "is a folder"),
    ],
)
def test_usage_and_configuration_errors_exit_2_with_one_clear_line(workspace, args, message):
    args = [a.replace("{root}", str(workspace)) for a in args]
    out = cli(workspace, *args)
    assert out.returncode == 2, out.stdout
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("crystallize: error:")


def test_bad_argument_types_exit_2(workspace):
    out = cli(workspace, "run", "coin", "--replicates", "many")
    assert out.returncode == 2 and "invalid int value" in out.stderr


def test_a_corrupt_store_is_an_error_naming_the_file(workspace):
    bad = workspace / "bad.db"
    bad.write_bytes(b"garbage" * 100)
    out = cli(workspace, "run", "coin", "--store", str(bad))
    assert out.returncode == 2 and str(bad) in out.stderr
    assert bad.read_bytes() == b"garbage" * 100


def test_run_once_shows_events_and_reproduces_a_replicate(workspace):
    out = cli(workspace, "run-once", "coin", "--treatment", "biased", "--replicate", "2")
    assert out.returncode == 0, out.stderr
    assert "playing biased #2" in out.stdout
    assert "[biased #2] turn n=1" in out.stdout
    full = json.loads(cli(workspace, "run", "coin", "-t", "biased", "--json").stdout)
    rep = next(r for r in full["replicate_results"] if r["treatment"] == "biased" and r["replicate"] == 2)
    win = dict(rep["values"])["win"]
    assert f"win={win}" in out.stdout
    verbose = cli(workspace, "run-once", "coin", "--verbose")
    assert "config of baseline" in verbose.stdout and "step play" in verbose.stdout


def test_run_once_shows_the_users_traceback_on_failure(workspace):
    out = cli(workspace, "run-once", "coin", "-t", "broken")
    assert out.returncode == 1
    assert 'game.py", line 8, in play' in out.stderr
    assert 'raise ValueError("the board is on fire")' in out.stderr
    assert "crystallize_tui" not in out.stderr.split("Traceback")[1].split("\n")[1]


def test_diff_shows_only_the_keys_that_differ(workspace):
    out = cli(workspace, "diff", "coin", "baseline", "bigger")
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["--- baseline", "+++ bigger", "- board.size: 9", "+ board.size: 13"]
    same = cli(workspace, "diff", "coin", "baseline", "baseline")
    assert "identical" in same.stdout


def test_history_show_and_export(workspace, tmp_path):
    first = json.loads(cli(workspace, "run", "coin", "-t", "biased", "-n", "3", "--json").stdout)
    cli(workspace, "run", "coin", "-t", "bigger", "-n", "2")
    history = cli(workspace, "history", "coin")
    assert history.returncode == 0 and first["run_id"] in history.stdout
    assert history.stdout.count("completed") == 2
    shown = cli(workspace, "show", first["run_id"])
    assert shown.returncode == 0 and "biased" in shown.stdout and "McNemar exact" in shown.stdout
    csv_out = cli(workspace, "export", first["run_id"], "--format", "csv")
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0] == "treatment,replicate,seed,status,metric,index,value,kind"
    assert len(lines) == 1 + 2 * 3 * 2  # conditions x replicates x metrics
    target = tmp_path / "run.json"
    cli(workspace, "export", first["run_id"], "-f", "json", "-o", str(target))
    exported = json.loads(target.read_text())
    assert exported["replicate_results"] == first["replicate_results"]


def test_ctrl_c_cancels_keeps_finished_replicates_and_resume_finishes(workspace):
    code, _, err = interrupt_once_stored(workspace, 3, "run", "slow")
    assert code == 130, err
    db = workspace / ".crystallize" / "crystallize.db"
    assert "--resume" in err
    kept = stored_replicates(db)
    assert 3 <= kept < 40
    resumed = cli(workspace, "run", "slow", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming with {kept} done" in resumed.stdout
    assert stored_replicates(db) == 40


def test_resume_after_a_config_change_is_refused_listing_the_change(workspace):
    proc = cli(workspace, "run", "coin", "-t", "broken", "-n", "2")
    assert proc.returncode == 1
    yaml_file = workspace / "experiments" / "coin" / "experiment.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("p: 0.3", "p: 0.4"))
    out = cli(workspace, "run", "coin", "-t", "broken", "-n", "2", "--resume")
    assert out.returncode == 2
    assert "p: 0.3 -> 0.4" in out.stderr
    forced = cli(workspace, "run", "coin", "-t", "broken", "-n", "2", "--resume", "--force")
    assert forced.returncode == 1  # resumed; the broken treatment still fails
