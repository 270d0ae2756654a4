"""Bounds of metrics without a hypothesis (``Experiment(metric_bounds=...)``, YAML
``metric_bounds:``): checked, stored with the run (schema 6), used wherever anytime rows are made."""

from __future__ import annotations

import json
import sqlite3

import pytest
from cli_support import cli, write_experiment

from crystallize_tui import Experiment, Hypothesis
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.store import Store, schema

STEPS = '''
import random

def play(config, ctx):
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("accuracy", rng.uniform(config["low"], config["low"] + 0.5))
'''

YAML = """\
pipeline: [steps:play]
datasource: {{low: 0.0}}
replicates: 10
seed: 3
treatments:
  up: {{low: 0.4}}
run: {{stop: decided, max_replicates: 100}}
{bounds}
"""
BETTING = "metric_bounds: {accuracy: {bounds: [0, 1], anytime: betting}}"


def run_json(root, *args):
    out = cli(root, "run", "game", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_declared_metric_bounds_give_bounded_rows_that_decide_sooner(tmp_path):
    folder = write_experiment(tmp_path, "game", YAML.format(bounds=BETTING), {"steps.py": STEPS})
    bounded = run_json(tmp_path)
    (row,) = bounded["comparison"]
    assert (row["anytime"], row["anytime_method"]) == ("decided: higher", "betting")
    assert bounded["metric_bounds"] == {"accuracy": {"bounds": [0.0, 1.0], "anytime": "betting"}}
    (folder / "experiment.yaml").write_text(YAML.format(bounds=""))
    plain = run_json(tmp_path)
    assert plain["comparison"][0]["anytime_method"] == "asymptotic"
    # The same seeds: the bounded sequence needs no burn-in, the asymptotic one waits 30.
    assert bounded["stop"]["stopping_replicate"] < plain["stop"]["stopping_replicate"]

    # A stored run keeps its bounds: `show` uses them though experiment.yaml has none now.
    shown = cli(tmp_path, "show", bounded["run_id"], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["comparison"][0]["anytime_method"] == "betting"
    store = Store(tmp_path / ".crystallize" / "crystallize.db")
    assert store.load(bounded["run_id"]).metric_bounds == {"accuracy": (0.0, 1.0, "betting")}
    # What `attach` and the attached screen read of a live run: the store's row.
    from crystallize_tui.commands.live import _print_live_statistics

    row = store.run_row(bounded["run_id"])
    assert json.loads(row["metric_bounds"]) == {"accuracy": {"bounds": [0.0, 1.0], "anytime": "betting"}}
    assert store.run_row(plain["run_id"])["metric_bounds"] is None
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        _print_live_statistics(store, bounded["run_id"])
    assert "(betting: differences within [-1, 1]" in printed.getvalue()


@pytest.mark.parametrize("entry, fragment", [
    ("metric_bounds: {accuracy: [1, 0]}", "metric_bounds.accuracy: bounds must be [low, high]"),
    ("metric_bounds: {accuracy: {bounds: [0, 1], anytime: bet}}",
     "metric_bounds.accuracy.anytime: must be one of bounded, betting, got 'bet'"),
    ("metric_bounds: {accuracy: [" + ", ".join(["0"] * 5000) + "]}",
     "metric_bounds.accuracy: bounds must be [low, high], two numbers, got a list of 5000"),
    ("metric_bounds: [0, 1]", "metric_bounds: expected a mapping of metric: [low, high], got list"),
    ("metric_bounds: {accuracy: [0, 1]}\nhypotheses: [{metric: accuracy, bounds: [0, 2]}]",
     "differ from the experiment's metric_bounds [0.0, 1.0]"),
], ids=["low>high", "unknown-method", "huge-list", "not-a-mapping", "hypothesis-disagrees"])
def test_bad_metric_bounds_are_one_line_naming_the_key(tmp_path, entry, fragment):
    write_experiment(tmp_path, "game", YAML.format(bounds=entry), {"steps.py": STEPS})
    out = cli(tmp_path, "run", "game")
    assert out.returncode == 2, out.stdout
    assert fragment in out.stderr and "experiment.yaml:" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and len(out.stderr) < 400, out.stderr
    assert not (tmp_path / ".crystallize" / "crystallize.db").exists() or not Store(
        tmp_path / ".crystallize" / "crystallize.db").runs("game")


def test_experiment_metric_bounds_are_checked_in_python():
    def step(config, ctx):
        return None

    exp = Experiment("x", pipeline=[step], metric_bounds={"score": (0, 100)}, store=None,
                     hypotheses=[Hypothesis("score", bounds=(0, 100))])
    assert exp.metric_bounds == {"score": (0.0, 100.0, "bounded")}
    with pytest.raises(ConfigError, match=r"hypotheses\[0\]: .* differ from the experiment's metric_bounds"):
        Experiment("x", pipeline=[step], metric_bounds={"score": (0, 100)}, store=None,
                   hypotheses=[Hypothesis("score", bounds=(0, 1))])
    with pytest.raises(ConfigError, match="metric_bounds.score: bounds must be"):
        Experiment("x", pipeline=[step], metric_bounds={"score": (0, float("nan"))}, store=None)
    with pytest.raises(ConfigError, match=r"metric_bounds.score: bounds .* too far apart"):
        Experiment("x", pipeline=[step], metric_bounds={"score": (-1e308, 1e308)}, store=None)
    with pytest.raises(ConfigError, match="metric_bounds: 1001 metrics, at most 1000"):
        Experiment("x", pipeline=[step], metric_bounds={f"m{i}": (0, 1) for i in range(1001)},
                   store=None)


def test_a_schema_5_store_opens_and_its_runs_read_the_same(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for version in range(1, 6):  # a store written before metric_bounds
        for statement in schema.MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('app', 'crystallize'), ('schema_version', '5')")
    conn.execute("INSERT INTO runs (run_id, experiment, status, started_at, finished_at, "
                 "base_seed, replicates, conditions, configs, fingerprint, fingerprint_parts, "
                 "versions, hypotheses) VALUES ('old-run', 'game', 'completed', 1.0, 2.0, 11, 1, "
                 "'[\"baseline\", \"up\"]', '{}', 'f', '{}', '{}', "
                 "'[{\"metric\": \"accuracy\", \"direction\": \"greater\", \"bounds\": [0, 1]}]')")
    for cond, value in (("baseline", 0.25), ("up", 0.75)):
        conn.execute("INSERT INTO replicates VALUES ('old-run', ?, 0, 5, 'ok', 0.1, NULL, NULL, 2.0)",
                     (cond,))
        conn.execute("INSERT INTO metrics VALUES ('old-run', ?, 0, 0, 'accuracy', ?, 'float')",
                     (cond, value))
    conn.close()
    store = Store(db)
    result = store.load("old-run")
    assert sqlite3.connect(db).execute(
        "SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(schema.SCHEMA_VERSION),)
    assert result.metric_bounds == {} and result.declared_hypotheses[0].bounds == (0.0, 1.0)
    assert result.metrics["up"].metrics["accuracy"] == [0.75]
    from crystallize_tui.watch.live_stats import anytime_rows

    assert [r.method for r in anytime_rows(result)] == ["bounded"]  # the hypothesis's, as before


FOOTNOTE_STEPS = '''
import random

def play(config, ctx):
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("accuracy", rng.uniform(config["low"], config["low"] + 0.5))
    ctx.metrics.add("loss", rng.gauss(config["low"], 1.0))
    ctx.metrics.add("score", 150.0 if ctx.replicate == 3 else rng.uniform(0, 100))
'''
FOOTNOTE_YAML = """\
pipeline: [steps:play]
datasource: {low: 0.0}
replicates: 8
seed: 3
treatments:
  up: {low: 0.4}
metric_bounds: {accuracy: [0, 1], score: [0, 100]}
"""
NOTES = ("empirical-Bernstein in declared bounds [0, 1]: exact at every n",
         "asymptotic: finite variance;",
         "score=150 outside declared [0, 100]: asymptotic over the whole history (finite variance;")


def test_the_final_anytime_rows_are_marked_and_footnoted_with_what_they_assume(tmp_path):
    write_experiment(tmp_path, "game", FOOTNOTE_YAML, {"steps.py": FOOTNOTE_STEPS})
    out = cli(tmp_path, "run", "game")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    row = {m: next(line for line in lines if f"up {m}: " in line) for m in ("accuracy", "loss", "score")}
    assert row["accuracy"].endswith(" undecided *") and row["loss"].endswith(" †")
    assert row["score"].endswith(" ‡") and "(asymptotic" not in row["loss"]
    notes = {line.strip()[0]: line.strip() for line in lines if line.strip() and line.strip()[0] in "*†‡"}
    assert NOTES[0] in notes["*"] and NOTES[1] in notes["†"] and NOTES[2] in notes["‡"]
    assert len(notes) == 3  # one line per distinct note


async def test_the_tui_final_table_marks_its_anytime_cells_and_says_why_below(tmp_path):
    from textual.widgets import Static
    from tui_support import app_for, run_to_end, text_of, write

    write(tmp_path / "experiments" / "game", {"experiment.yaml": FOOTNOTE_YAML,
                                              "steps.py": FOOTNOTE_STEPS})
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await run_to_end(app, pilot, "game")
        stats = screen.query_one("#stats")
        column = list(stats.visible_columns).index("anytime")
        cells = {str(stats.get_row_at(i)[0]): str(stats.get_row_at(i)[column])
                 for i in range(stats.row_count)}
        assert cells == {"accuracy": "undecided *", "loss": "undecided †", "score": "undecided ‡"}
        below = " ".join(text_of(screen.query_one("#verdicts", Static)).split())  # wrapped
        assert "* " + NOTES[0] in below and "† " + NOTES[1] in below and NOTES[2] in below


def confirm_step(config, ctx):
    ctx.metrics.add("score", min(1.0, max(0.0, ctx.rng.gauss(0.3, 0.1) + config["p"])))


def test_a_confirmatory_run_uses_and_locks_its_metric_bounds(tmp_path):
    from crystallize_tui import Treatment
    from crystallize_tui.core.confirm import changes_since_lock
    from crystallize_tui.watch.live_stats import anytime_rows

    def experiment(bounds):
        return Experiment("dice", datasource={"p": 0.0}, pipeline=[confirm_step], replicates=6,
                          seed=11, treatments=[Treatment("better", {"p": 0.4})],
                          hypotheses=[Hypothesis("score", "greater")], metric_bounds=bounds,
                          store=tmp_path / "c.db")

    result = experiment({"score": (0, 1)}).confirm()
    assert result.kind == "confirmatory"
    assert [r.method for r in anytime_rows(result)] == ["bounded"]
    store = Store(tmp_path / "c.db")
    row = store.run_row(result.run_id)
    assert changes_since_lock(experiment({"score": (0, 1)}), row) == []
    assert changes_since_lock(experiment({"score": (0, 2)}), row) == [
        "metric_bounds of 'score' changed: [0, 1] bounded -> [0, 2] bounded"]
    assert changes_since_lock(experiment(None), row) == [
        "metric_bounds of 'score' changed: [0, 1] bounded -> none"]


def test_the_home_screen_details_name_the_metric_bounds():
    from types import SimpleNamespace

    from rich.console import Console

    from crystallize_tui.tui.screens.home import describe_experiment

    def step(config, ctx):
        return None

    exp = Experiment("x", pipeline=[step], store=None,
                     metric_bounds={"score": (0, 100), "acc": {"bounds": (0, 1), "anytime": "betting"}})
    console = Console(width=80, record=True)
    console.print(describe_experiment(SimpleNamespace(experiment=exp, path="experiments/x"), None))
    text = console.export_text()
    assert "metric bounds" in text and "score in [0, 100]" in text and "acc in [0, 1] (betting)" in text


def test_quick_experiment_stores_its_metric_bounds(tmp_path):
    from crystallize_tui import quick_experiment

    def fn(config):
        return {"acc": config["p"]}

    quick_experiment(fn, {"baseline": {"p": 0.2}, "up": {"p": 0.6}}, replicates=2,
                     store=tmp_path / "q.db", metric_bounds={"acc": (0, 1)})
    store = Store(tmp_path / "q.db")
    (record,) = store.runs(fn.__name__)
    assert store.load(record.run_id).metric_bounds == {"acc": (0.0, 1.0, "bounded")}
