"""Stop when decided: runs that end once every anytime-valid interval excludes 0 (or is
narrow enough), the status "stopped: decided", what the store and `run --json` keep."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import cli, write_experiment

from crystallize_tui import Experiment, Treatment
from crystallize_tui.core.errors import ConfigError

# Independent noise per condition (a seed shared by the conditions would cancel it out of
# the paired differences): "x" normal with the config's shift, "win" a 0/1 outcome.
STEPS = '''
import random

def play(config, ctx):
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("x", rng.gauss(config["shift"], 1.0))
    ctx.metrics.add("win", rng.random() < config["p"])
'''

YAML = """\
pipeline: [steps:play]
datasource: {{shift: 0.0, p: 0.5}}
replicates: 5
seed: 11
treatments:
  better: {{shift: {shift}, p: {p}}}
"""


def workspace(tmp_path: Path, shift: float, p: float) -> Path:
    write_experiment(tmp_path, "game", YAML.format(shift=shift, p=p), {"steps.py": STEPS})
    return tmp_path


def stored_run(root: Path) -> tuple[str, int, dict]:
    conn = sqlite3.connect(root / ".crystallize" / "crystallize.db")
    try:
        status, run_id, stop = conn.execute(
            "SELECT status, run_id, stop FROM runs ORDER BY started_at DESC").fetchone()
        (count,) = conn.execute("SELECT COUNT(*) FROM replicates WHERE run_id = ?", (run_id,)).fetchone()
    finally:
        conn.close()
    return status, count, json.loads(stop)


def test_a_large_difference_stops_before_the_cap_and_says_where(tmp_path):
    root = workspace(tmp_path, shift=2.0, p=0.95)
    out = cli(root, "run", "game", "--until", "decided", "--max-replicates", "400", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "stopped: decided"
    stop = doc["stop"]
    assert stop["reason"] == "decided" and stop["until"] == "decided" and stop["max_replicates"] == 400
    k = stop["stopping_replicate"]
    assert 2 <= k < 400
    rows = {r["metric"]: r for r in stop["rows"]}
    assert rows["x"]["anytime"] == "decided: higher" and rows["x"]["lower"] > 0
    assert rows["win"]["method"] == "bounded" and rows["x"]["method"] == "asymptotic"
    assert rows["x"]["n"] == k
    by_metric = {r["metric"]: r for r in doc["comparison"]}
    assert by_metric["x"]["anytime"] == "decided: higher"
    assert by_metric["x"]["anytime_interval"][0] > 0
    status, count, stored = stored_run(root)
    assert status == "stopped: decided"
    assert count < 2 * 400  # no replicate started after the decision (serial: none in flight)
    assert count == 2 * k
    assert stored["stopping_replicate"] == k and stored["rows"] == stop["rows"]
    history = cli(root, "history", "game")
    assert history.returncode == 0, history.stderr
    assert "stopped: decided" in history.stdout


def test_no_difference_runs_to_the_cap_and_says_undecided(tmp_path):
    root = workspace(tmp_path, shift=0.0, p=0.5)
    out = cli(root, "run", "game", "--until", "decided", "--max-replicates", "60")
    assert out.returncode == 0, out.stderr
    assert "ran to the cap (60 replicates, rule decided): undecided" in out.stdout
    assert "better x:" in out.stdout and "undecided" in out.stdout
    status, count, stop = stored_run(root)
    assert status == "completed" and count == 120
    assert stop["reason"] == "cap" and not stop["decided"]
    assert {r["anytime"] for r in stop["rows"]} == {"undecided"}


def test_a_width_target_stops_once_every_interval_is_that_narrow(tmp_path):
    root = workspace(tmp_path, shift=0.0, p=0.5)
    out = cli(root, "run", "game", "--until", "width=1.5", "--max-replicates", "500", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "stopped: width"
    assert all(r["upper"] - r["lower"] <= 1.5 for r in doc["stop"]["rows"])
    assert doc["stop"]["stopping_replicate"] < 500


def test_resume_of_a_stopped_run_is_refused_with_the_reason(tmp_path):
    root = workspace(tmp_path, shift=2.0, p=0.95)
    assert cli(root, "run", "game", "--until", "decided", "--max-replicates", "300").returncode == 0
    again = cli(root, "run", "game", "--resume")
    assert again.returncode != 0
    assert "stopped: decided" in again.stderr and "nothing to resume" in again.stderr


@pytest.mark.parametrize("args, words", [
    (("--until", "soon"), "'decided' or 'width=W'"),
    (("--until", "width=-1"), "width must be a number > 0"),
    (("--max-replicates", "10"), "max_replicates needs a stop rule"),
    (("--until", "decided", "--max-replicates", "0"), "max_replicates must be a whole number"),
])
def test_bad_stop_options_say_what_is_wrong(tmp_path, args, words):
    root = workspace(tmp_path, shift=1.0, p=0.5)
    out = cli(root, "run", "game", *args)
    assert out.returncode != 0
    assert words in out.stderr
    assert not (root / ".crystallize" / "crystallize.db").exists() or stored_run_count(root) == 0


def stored_run_count(root: Path) -> int:
    conn = sqlite3.connect(root / ".crystallize" / "crystallize.db")
    try:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        conn.close()


def noisy(config, ctx):
    import random

    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("x", rng.gauss(config["shift"], 1.0))


def test_the_api_stops_when_decided_and_the_stored_result_keeps_it(tmp_path):
    from crystallize_tui.core.store import Store

    path = tmp_path / "s.db"
    exp = Experiment("api", datasource={"shift": 0.0}, pipeline=[noisy], seed=5,
                     treatments=[Treatment("up", {"shift": 3.0})], stop="decided",
                     max_replicates=200, store=path)
    result = exp.run()
    assert result.status == "stopped: decided"
    k = result.stop["stopping_replicate"]
    assert k < 200 and len(result.replicate_results) == 2 * k
    loaded = Store(path).load(result.run_id)
    assert loaded.status == "stopped: decided" and loaded.stop == result.stop
    # Run options override the experiment's rule: width, then none at all is refused.
    assert exp.run(stop="width=0.5", max_replicates=20).stop["until"] == "width=0.5"
    with pytest.raises(ConfigError, match="stop 'often'"):
        exp.run(stop="often")


def two_metrics(config, ctx):
    import random

    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("x", rng.gauss(config["shift"], 1.0))
    ctx.metrics.add("noise", rng.gauss(0.0, 1.0))  # the same in every condition: never decided


def test_with_hypotheses_only_their_rows_need_deciding(tmp_path):
    from crystallize_tui import Hypothesis

    def experiment(hypotheses):
        return Experiment("hyp", datasource={"shift": 0.0}, pipeline=[two_metrics], seed=9,
                          treatments=[Treatment("up", {"shift": 2.0})], hypotheses=hypotheses,
                          stop="decided", max_replicates=150, store=tmp_path / "s.db")

    declared = experiment([Hypothesis("x", "greater")]).run()
    assert declared.status == "stopped: decided"
    rows = {r["metric"]: r["anytime"] for r in declared.stop["rows"]}
    assert rows == {"x": "decided: better", "noise": "undecided"}
    # Without a hypothesis every row must be decided: noise never is, so the cap is reached.
    every = experiment([]).run()
    assert every.status == "completed" and every.stop["reason"] == "cap"
    assert len(every.replicate_results) == 300


def test_a_detached_run_keeps_its_rule_and_attach_says_where_it_stopped(tmp_path):
    root = workspace(tmp_path, shift=2.0, p=0.95)
    started = cli(root, "run", "game", "--until", "decided", "--max-replicates", "400", "--detach")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    watched = cli(root, "attach", run_id)  # follows the run to its end
    assert watched.returncode == 0, watched.stderr
    assert "stopped: decided at replicate" in watched.stdout
    assert "better x:" in watched.stdout and "decided: higher" in watched.stdout
    assert stored_run(root)[0] == "stopped: decided"


def test_a_cancelled_run_with_a_rule_resumes_under_it(tmp_path):
    path = tmp_path / "s.db"

    def experiment():
        return Experiment("again", datasource={"shift": 0.0}, pipeline=[noisy], seed=5,
                          treatments=[Treatment("up", {"shift": 3.0})], store=path)

    exp = experiment()
    stream = exp.stream(stop="decided", max_replicates=200)
    for _ in range(3):  # leaving the loop cancels the run after a few replicates
        next(stream)
    stream.close()
    assert exp.last_result.status == "cancelled"
    resumed = experiment().run(resume=True)  # no rule given: the stored one holds
    assert resumed.status == "stopped: decided" and resumed.stop["until"] == "decided"
    assert resumed.stop["max_replicates"] == 200 and resumed.stop["stopping_replicate"] < 200


def test_experiment_yaml_can_declare_the_stop_rule(tmp_path):
    """`run: {stop: decided, max_replicates: 400}` in experiment.yaml: a plain `crystallize run`
    stops when decided; a bad rule is a one-line error naming the file's key."""
    text = YAML.format(shift=2.0, p=0.95) + "run: {stop: decided, max_replicates: 400}\n"
    write_experiment(tmp_path, "game", text, {"steps.py": STEPS})
    out = cli(tmp_path, "run", "game", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "stopped: decided" and doc["stop"]["max_replicates"] == 400
    assert doc["stop"]["stopping_replicate"] < 400

    bad = YAML.format(shift=2.0, p=0.95) + "run: {stop: soon}\n"
    write_experiment(tmp_path, "bad", bad, {"steps.py": STEPS})
    out = cli(tmp_path, "run", "bad")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "experiment.yaml" in line and "run.stop" in line and "'soon'" in line


def test_a_yaml_stop_rule_beside_plugins_parallel_is_not_a_second_backend(tmp_path):
    text = (YAML.format(shift=2.0, p=0.95) + "run: {stop: decided, max_replicates: 60}\n"
            "plugins: {parallel: {max_workers: 2, kind: thread}}\n")
    write_experiment(tmp_path, "game", text, {"steps.py": STEPS})
    experiment = Experiment.from_yaml(tmp_path / "experiments" / "game")
    assert experiment.stop_rule is not None and experiment.stop_rule.max_replicates == 60
    assert experiment.execution["backend"] == "threads"


def test_the_correction_across_rows_is_chosen_and_said_in_json(tmp_path):
    """`--correction e-bh` reaches the rule and `run --json` names it; a bad name in experiment.yaml is one line naming the file, key and value."""
    root = workspace(tmp_path, shift=2.0, p=0.95)
    out = cli(root, "run", "game", "--until", "decided", "--max-replicates", "200",
              "--correction", "e-bh", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["stop"]["correction"] == "e-bh" and doc["anytime_correction"].startswith("e-BH across 2")
    assert {r["correction"] for r in doc["stop"]["rows"]} == {"e-bh"}
    assert all(r["anytime_level"] is not None for r in doc["comparison"])

    bad = YAML.format(shift=2.0, p=0.95) + "run: {stop: decided, max_replicates: 9, correction: fdr}\n"
    write_experiment(tmp_path, "bad", bad, {"steps.py": STEPS})
    out = cli(tmp_path, "run", "bad")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "experiment.yaml" in line and "run.correction" in line and "'fdr'" in line and "holm" in line


SLOW_STEPS = '''
import random
import time

def play(config, ctx):
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    time.sleep(0.05)  # so the pool's other workers are mid-replicate when the rule holds
    ctx.metrics.add("x", rng.gauss(config["shift"], 1.0))  # a cancellation point after the work
'''


def test_a_process_pool_keeps_the_replicates_running_at_the_stop_and_says_so(tmp_path):
    """With 3 worker processes, replicates running when the rule holds finish and are kept;
    the stop is at the look where the rule held, its rows are those of that look, and the
    store, `run --json` and `show` say how many more finished after it."""
    write_experiment(tmp_path, "game", YAML.format(shift=3.0, p=0.5), {"steps.py": SLOW_STEPS})
    out = cli(tmp_path, "run", "game", "--until", "decided", "--max-replicates", "200",
              "--backend", "processes", "-w", "3", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    stop, k = doc["stop"], doc["stop"]["stopping_replicate"]
    after = stop["finished_after"]
    assert doc["status"] == "stopped: decided" and after >= 1
    assert stop["summary"] == f"stopped: decided at replicate {k} ({after} more finished after the stop, kept)"
    assert [r["n"] for r in stop["rows"]] == [k]  # the answer at the stopping look
    kept = doc["replicate_results"]
    assert len(kept) == 2 * k + after and all(r["status"] == "ok" for r in kept)
    status, count, stored = stored_run(tmp_path)
    assert count == 2 * k + after and stored["finished_after"] == after
    assert stored["stopping_replicate"] == k
    shown = cli(tmp_path, "show", doc["run_id"])
    assert f"stopped: decided at replicate {k} ({after} more finished after the stop, kept)" in shown.stdout
    assert "anytime-valid rows at the stopping look" in shown.stdout
