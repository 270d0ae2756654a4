"""Confirm on fresh seeds: disjoint seeds checked in the store, pairing, the lock, history and old stores."""

import json
import sqlite3
from pathlib import Path

from cli_support import cli, write
from textual.widgets import DataTable
from tui_support import app_for, on_home, until

from crystallize_tui import Experiment, Treatment
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.seeds import derive_seed
from crystallize_tui.core.store import Store, schema

GAME = '''
import pathlib

def play(config, ctx):
    if config.get("fail_at") == ctx.replicate or (ctx.replicate == 2 and pathlib.Path("flaky").exists()):
        raise ValueError("flaky")
    ctx.metrics.add("draw", ctx.rng.random())
    ctx.metrics.add("score", ctx.rng.gauss(0, 1) + config["p"])
'''

DICE_YAML = '''
pipeline: [game:play]
datasource: {{p: 0.0}}
replicates: 8
seed: 11
treatments:
  better: {{p: {shift}}}
hypotheses:
  - {{metric: score, direction: {direction}, test: paired_t}}
'''


def dice(root: Path, shift: float = 3.0, direction: str = "greater") -> None:
    write(root / "experiments" / "dice", {
        "experiment.yaml": DICE_YAML.format(shift=shift, direction=direction), "game.py": GAME})


def play(config, ctx):
    if config.get("fail_at") == ctx.replicate:
        raise ValueError("flaky")
    ctx.metrics.add("draw", ctx.rng.random())
    ctx.metrics.add("score", ctx.rng.gauss(0, 1) + config["p"])


def query(db: Path, sql: str, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def seeds_by_run(db: Path) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for run_id, seed in query(db, "SELECT run_id, seed FROM replicates"):
        out.setdefault(run_id, set()).add(seed)
    return out


def experiment(db: Path, **datasource) -> Experiment:
    return Experiment(name="dice", datasource={"p": 0.0, **datasource}, pipeline=[play],
                      replicates=5, seed=11, treatments=[Treatment("better", {"p": 3.0})],
                      hypotheses=[{"metric": "score", "direction": "greater"}], store=db)


def test_confirm_seeds_overlap_no_earlier_run_and_stay_paired_across_conditions(tmp_path):
    db = tmp_path / "store.db"
    experiment(db).run(echo=False)  # exploratory
    # A run that failed at replicate 2, then resumed to 7 replicates: its seeds grew.
    experiment(db, fail_at=2).run(echo=False, seed=5)
    experiment(db).run(echo=False, seed=5, resume=True, force=True, replicates=7)
    first = experiment(db).confirm(echo=False)
    second = experiment(db).confirm(echo=False, replicates=9)

    seeds = seeds_by_run(db)
    assert len(seeds) == 4  # the resume continued its run
    kinds = dict(query(db, "SELECT run_id, kind FROM runs"))
    streams = dict(query(db, "SELECT run_id, seed_stream FROM runs"))
    assert kinds[first.run_id] == kinds[second.run_id] == "confirmatory"
    assert sorted(streams.values()) == [0, 0, 1, 2]
    for confirm in (first.run_id, second.run_id):
        for other, other_seeds in seeds.items():
            if other != confirm:
                assert seeds[confirm].isdisjoint(other_seeds), (confirm, other)
    assert len(seeds[second.run_id]) == 9
    # Pairing: replicate k has one seed in every condition, and draws the same numbers.
    for result in (first, second):
        by_rep: dict[int, set] = {}
        for rep in result.replicate_results:
            by_rep.setdefault(rep.replicate, set()).add((rep.seed, rep.metrics["draw"]))
        assert all(len(pairs) == 1 for pairs in by_rep.values())
    assert [h.verdict for h in first.hypotheses] == ["supported"]


def test_a_stored_seed_on_the_next_stream_is_avoided_by_checking_the_store(tmp_path):
    db = tmp_path / "store.db"
    experiment(db).run(echo=False)
    # A run recorded with stream-0 bookkeeping but holding the seed stream 1 would give
    # replicate 3 (as an imported or hand-made run might): stream 1 is not fresh any more.
    clash = derive_seed(11, 3, stream=1)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO runs (run_id, experiment, status, started_at, base_seed, "
                 "replicates, conditions, configs, fingerprint, fingerprint_parts, versions) "
                 "VALUES ('odd', 'dice', 'completed', 1.0, 99, 1, '[\"baseline\"]', '{}', 'f', "
                 "'{}', '{}')")
    conn.execute("INSERT INTO replicates VALUES ('odd', 'baseline', 0, ?, 'ok', 0.1, NULL, "
                 "NULL, 1.0)", (clash,))
    conn.commit()
    conn.close()
    result = experiment(db).confirm(echo=False)
    assert query(db, "SELECT seed_stream FROM runs WHERE run_id = ?", (result.run_id,)) == [(2,)]
    assert clash not in seeds_by_run(db)[result.run_id]


def test_confirm_refuses_an_experiment_without_hypotheses_and_resume(tmp_path):
    bare = Experiment(name="bare", datasource={"p": 0.0}, pipeline=[play], store=tmp_path / "s.db")
    try:
        bare.confirm(echo=False)
    except ConfigError as exc:
        assert "declares no hypotheses" in str(exc)
    else:
        raise AssertionError("confirm ran without hypotheses")
    try:
        experiment(tmp_path / "s.db").confirm(resume=True)
    except ConfigError as exc:
        assert "option 'resume' is refused" in str(exc)
    else:
        raise AssertionError("confirm resumed")


def test_cli_confirm_exits_by_the_verdicts_and_history_marks_the_run(tmp_path):
    dice(tmp_path)
    helped = cli(tmp_path, "confirm", "--help")
    assert helped.returncode == 0 and "fresh seeds" in helped.stdout and "--store" in helped.stdout
    assert cli(tmp_path, "run", "dice").returncode == 0
    out = cli(tmp_path, "confirm", "dice")
    assert out.returncode == 0, out.stderr
    assert "confirmatory run: fresh seeds (seed stream 1" in out.stdout
    assert "unchanged since the lock (configs, code, hypotheses)" in out.stdout
    assert "confirmed: every hypothesis supported on fresh seeds" in out.stdout
    history = cli(tmp_path, "history", "dice").stdout.splitlines()
    rows = [line for line in history if "completed" in line]
    assert len(rows) == 2
    assert "confirmatory" in rows[0] and "exploratory" in rows[1]  # newest first

    dice(tmp_path, direction="less")  # a claim the data contradict
    refuted = cli(tmp_path, "confirm", "dice", "--json")
    assert refuted.returncode == 1, refuted.stderr
    doc = json.loads(refuted.stdout)
    assert doc["confirmation"]["kind"] == "confirmatory"
    assert doc["confirmation"]["seed_stream"] == 2 and doc["confirmation"]["confirmed"] is False
    assert [h["verdict"] for h in doc["hypotheses"]] == ["not supported"]

    write(tmp_path / "experiments" / "plain",
          {"experiment.yaml": "pipeline: [game:play]\ndatasource: {p: 0}\n", "game.py": GAME})
    bare = cli(tmp_path, "confirm", "plain")
    assert bare.returncode == 2
    assert "experiment 'plain' declares no hypotheses" in bare.stderr


def test_show_reports_what_changed_since_the_lock(tmp_path):
    dice(tmp_path)
    done = cli(tmp_path, "confirm", "dice", "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    shown = cli(tmp_path, "show", run_id).stdout
    assert "confirmatory run" in shown and "unchanged since the lock" in shown

    dice(tmp_path, shift=2.5, direction="two-sided")
    (tmp_path / "experiments" / "dice" / "game.py").write_text(GAME.replace("gauss(0, 1)", "gauss(0, 2)"))
    shown = cli(tmp_path, "show", run_id).stdout
    assert "CHANGED since the lock:" in shown
    assert "config of 'better' changed: p: 3.0 -> 2.5" in shown
    assert "code of step 'play' changed" in shown
    assert "hypothesis removed or changed: score greater than baseline" in shown
    assert "hypothesis added or changed: score differs from baseline" in shown
    plain = cli(tmp_path, "run", "dice", "--json")
    other = json.loads(plain.stdout)["run_id"]
    assert "exploratory run (seed stream 0)" in cli(tmp_path, "show", other).stdout


def test_a_store_of_the_previous_schema_opens_and_its_runs_read_exploratory(tmp_path):
    db = tmp_path / ".crystallize" / "crystallize.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    for version in (1, 2):  # a store written before issue 12
        for statement in schema.MIGRATIONS[version]:
            conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('app', 'crystallize'), ('schema_version', '2')")
    conn.execute("INSERT INTO runs (run_id, experiment, status, started_at, finished_at, "
                 "base_seed, replicates, conditions, configs, fingerprint, fingerprint_parts, "
                 "versions) VALUES ('old-run', 'dice', 'completed', 1.0, 2.0, 11, 4, "
                 "'[\"baseline\"]', '{}', 'f', '{}', '{}')")
    conn.close()
    dice(tmp_path)

    history = cli(tmp_path, "history", "dice")
    assert history.returncode == 0, history.stderr
    assert "old-run" in history.stdout and "exploratory" in history.stdout
    assert query(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(schema.SCHEMA_VERSION),)]
    [record] = Store(db).runs("dice")
    assert (record.kind, record.seed_stream) == ("exploratory", 0)
    # The old run's planned seeds (stream 0, none stored) still count as used.
    assert cli(tmp_path, "confirm", "dice").returncode == 0
    fresh = {s for (s,) in query(db, "SELECT seed FROM replicates")}
    assert fresh.isdisjoint(derive_seed(11, k) for k in range(4))


async def test_the_history_screen_marks_a_confirmatory_run(tmp_path):
    dice(tmp_path)
    assert cli(tmp_path, "run", "dice").returncode == 0
    assert cli(tmp_path, "confirm", "dice").returncode == 0
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await on_home(app, pilot, "dice")
        await pilot.press("h")
        runs = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: runs.row_count == 2)
        statuses = [str(runs.get_row_at(i)[3]) for i in range(2)]
        assert statuses == ["completed · confirmatory", "completed"]


def test_a_resumed_confirmatory_run_keeps_its_fresh_seed_stream(tmp_path):
    db = tmp_path / "store.db"
    experiment(db).run(echo=False)
    failed = experiment(db, fail_at=2).confirm(echo=False)
    assert failed.errors  # replicate 2 failed in both conditions: the run can resume
    resumed = experiment(db).run(echo=False, resume=True, force=True)
    assert resumed.run_id == failed.run_id and not resumed.errors
    assert resumed.kind == "confirmatory"  # the Result says so, not only the store
    assert query(db, "SELECT kind, seed_stream FROM runs WHERE run_id = ?", (failed.run_id,)) == [
        ("confirmatory", 1)]
    assert seeds_by_run(db)[failed.run_id] == {derive_seed(11, k, stream=1) for k in range(5)}


def test_debugging_a_confirmatory_replicate_reproduces_its_fresh_seed(tmp_path):
    from crystallize_tui.commands.debug_child import debug_source

    exp = experiment(tmp_path / "store.db")
    result = exp.confirm(echo=False)
    stored = next(r for r in result.replicate_results if (r.treatment, r.replicate) == ("better", 3))
    source = debug_source(exp, "better", 3, result.run_id, None, None)
    rep = exp.debug("better", 3, verbose=False, echo=False, seed=source.seed,
                    config=source.config, seed_stream=source.seed_stream)
    assert rep.seed == source.stored_seed == stored.seed
    assert rep.metrics == stored.metrics


def test_two_confirmatory_runs_prepared_together_cannot_share_a_seed_stream(tmp_path):
    from crystallize_tui.core.errors import StoreError
    from crystallize_tui.core.handle import RunHandle

    exp = experiment(tmp_path / "store.db")
    first, second = (exp.prepare(confirmatory=True, echo=False) for _ in range(2))
    assert first.plan.seeds.stream == second.plan.seeds.stream == 1  # neither stored yet
    for run in (first, second):
        handle = RunHandle(listen=False)
        handle.bind(run, exp._active, exp._kept)
        if run is first:
            assert handle.drive().complete
            continue
        try:
            handle.drive()
        except StoreError as exc:
            assert "seed stream 1 of 'dice' was just taken by run" in str(exc)
        else:
            raise AssertionError("two confirmatory runs shared seed stream 1")
    assert query(tmp_path / "store.db", "SELECT COUNT(*) FROM runs") == [(1,)]


def test_cli_resume_of_a_confirmatory_run_reports_it_confirmatory_on_its_stream(tmp_path):
    dice(tmp_path)
    (tmp_path / "flaky").write_text("replicate 2 fails")
    failed = cli(tmp_path, "confirm", "dice")
    assert failed.returncode == 1 and "not confirmed" in failed.stdout
    (tmp_path / "flaky").unlink()
    resumed = cli(tmp_path, "run", "dice", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "confirmatory run: fresh seeds (seed stream 1" in resumed.stdout
    assert "unchanged since the lock" in resumed.stdout
    [(kind, stream)] = query(tmp_path / ".crystallize" / "crystallize.db",
                             "SELECT kind, seed_stream FROM runs")
    assert (kind, stream) == ("confirmatory", 1)
    assert {s for (s,) in query(tmp_path / ".crystallize" / "crystallize.db",
                                "SELECT seed FROM replicates")} == {
        derive_seed(11, k, stream=1) for k in range(8)}
