"""The SQLite run store: history, commits before events, kill -9 and resume, locking, export."""

import csv
import hashlib
import json
import math
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from steps import coin_game, failing_on_odd
from store_child import build as build_child

from crystallize_tui import (
    ArtifactPlugin,
    ConfigError,
    Experiment,
    ReplicateFinished,
    Store,
    StoreError,
    Treatment,
    default_store_path,
)
from crystallize_tui.core.store import recorder as recorder_mod

HERE = Path(__file__).parent


def game(store=None, **kw):
    return Experiment(name="coin", datasource={"p": 0.5}, pipeline=[coin_game], replicates=4,
                      treatments=[Treatment("high", {"p": 0.9})], store=store, **kw)


def test_runs_go_to_the_default_store_and_load_back_identical(crystallize_home):
    def odd_fails(config, ctx):
        coin_game(config, ctx)
        failing_on_odd(config, ctx)

    exp = Experiment(name="coin", datasource={"p": 0.5}, pipeline=[odd_fails],
                     replicates=4, treatments=[Treatment("high", {"p": 0.9})])
    live = exp.run()
    path = default_store_path()
    assert path == crystallize_home / "crystallize.db" and path.exists()
    store = Store(path)
    (record,) = store.runs("coin")
    assert (record.run_id, record.status, record.ok, record.failed) == (live.run_id, "failed", 4, 4)
    loaded = store.load(live.run_id)
    for cond in live.conditions:
        assert loaded.metrics[cond].metrics == live.metrics[cond].metrics
    assert [(e.treatment, e.replicate, e.seed, e.error, e.traceback) for e in loaded.errors] == [
        (e.treatment, e.replicate, e.seed, e.error, e.traceback) for e in live.errors
    ]
    assert loaded.configs == live.configs and loaded.seed == live.seed
    row = store.run_row(live.run_id)
    versions = json.loads(row["versions"])
    assert "python" in versions and "crystallize-tui" in versions
    assert row["git_commit"] is None or len(row["git_commit"]) >= 40


def test_the_workspace_root_is_the_folder_holding_experiments(tmp_path, monkeypatch):
    monkeypatch.delenv("CRYSTALLIZE_HOME")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert default_store_path() == tmp_path.resolve() / ".crystallize" / "crystallize.db"
    game(store=None).run()  # store=None keeps nothing
    assert not (tmp_path / ".crystallize").exists()
    explicit = tmp_path / "elsewhere" / "runs.db"
    game(store=explicit).run()
    assert len(Store(explicit).runs()) == 1


def test_each_replicate_is_committed_before_subscribers_hear_of_it(tmp_path):
    db = tmp_path / "s.db"
    seen_in_db = []

    def check(event):
        if isinstance(event, ReplicateFinished):
            conn = sqlite3.connect(db)  # another connection: only committed data is visible
            row = conn.execute(
                "SELECT COUNT(*) FROM metrics WHERE condition = ? AND replicate = ?",
                (event.treatment, event.replicate),
            ).fetchone()
            conn.close()
            seen_in_db.append(row[0])

    exp = game(store=db)
    exp.subscribe(check)
    exp.run()
    assert seen_in_db == [2] * 8  # win and score, for every replicate


def test_values_keep_their_types_through_the_store(tmp_path):
    def step(config, ctx):
        ctx.metrics.add("flag", True)
        ctx.metrics.add("count", 3)
        ctx.metrics.add("ratio", 0.25)
        ctx.metrics.add("undefined", math.nan)
        ctx.metrics.add("big", math.inf)

    live = Experiment(name="types", pipeline=[step], store=tmp_path / "s.db").run()
    values = Store(tmp_path / "s.db").load(live.run_id).replicate("baseline", 0).values
    assert [(n, type(v)) for n, v in values] == [
        ("flag", bool), ("count", int), ("ratio", float), ("undefined", float), ("big", float)
    ]
    assert math.isnan(values[3][1]) and values[4][1] == math.inf


def _count(db, sql="SELECT COUNT(*) FROM replicates WHERE status = 'ok'"):
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


@pytest.mark.parametrize("flags", [[], ["parallel"]], ids=["serial", "process-workers"])
def test_kill_9_mid_run_then_resume_gives_exactly_the_uninterrupted_result(tmp_path, flags):
    db = tmp_path / "kill.db"
    replicates, seconds = 30, 0.03
    child = subprocess.Popen(
        [sys.executable, str(HERE / "store_child.py"), str(db), "killed", str(replicates),
         str(seconds), *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while _count(db) < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    before = _count(db)
    assert 12 <= before < 2 * replicates, "killed mid-run"
    (record,) = Store(db).runs("killed")
    assert record.status == "interrupted"  # stored as running; its process is gone

    events = []
    exp = build_child(db, "killed", replicates, seconds)
    exp.subscribe(events.append)
    resumed = exp.run(resume=True)
    started = next(e for e in events if type(e).__name__ == "RunStarted")
    assert started.total == 2 * replicates - before  # finished replicates were not rerun
    assert resumed.run_id == record.run_id and resumed.status == "completed"

    uninterrupted = build_child(None, "killed", replicates, 0.0).run()
    for cond in ("baseline", "t"):
        assert resumed.metrics[cond].metrics == uninterrupted.metrics[cond].metrics
    rows = _count(db, "SELECT COUNT(*) FROM replicates")
    distinct = _count(db, "SELECT COUNT(DISTINCT condition || ':' || replicate) FROM replicates")
    assert rows == distinct == 2 * replicates  # none missing, none duplicated
    assert Store(db).load(record.run_id).metrics["t"].metrics == uninterrupted.metrics["t"].metrics
    time.sleep(0.1)


def test_resume_reruns_failed_replicates(tmp_path):
    db = tmp_path / "s.db"
    flaky = {"fail": True}

    def step(config, ctx):
        if flaky["fail"] and ctx.replicate == 2:
            raise RuntimeError("flaky network")
        ctx.metrics.add("k", ctx.replicate)

    def make():
        return Experiment(name="flaky", pipeline=[step], replicates=4, store=db)

    first = make().run()
    assert first.metrics.baseline.metrics["k"] == [0, 1, None, 3]
    flaky["fail"] = False
    second = make().run(resume=True)
    assert second.run_id == first.run_id
    assert second.metrics.baseline.metrics["k"] == [0, 1, 2, 3]
    assert second.errors == []
    assert Store(db).runs("flaky")[0].status == "completed"


def test_resume_continues_a_cancelled_run_and_starts_afresh_after_a_completed_one(tmp_path):
    db = tmp_path / "s.db"
    exp = game(store=db)
    for n, _ in enumerate(exp.stream()):
        if n == 2:
            break
    cancelled = exp.last_result
    assert Store(db).runs("coin")[0].status == "cancelled"
    resumed = game(store=db).run(resume=True)
    assert resumed.run_id == cancelled.run_id and resumed.status == "completed"
    again = game(store=db).run(resume=True)  # nothing left to resume: a new run
    assert again.run_id != resumed.run_id


def test_resume_refuses_when_the_config_or_code_changed_unless_forced(tmp_path):
    db = tmp_path / "s.db"
    exp = game(store=db)
    for _ in exp.stream():
        break
    changed = game(store=db)
    changed.datasource = {"p": 0.6}
    with pytest.raises(ConfigError) as info:
        changed.run(resume=True)
    message = str(info.value)
    assert "cannot resume run" in message
    assert "config of 'baseline' changed: p: 0.5 -> 0.6" in message
    assert "config of 'high' changed" not in message  # its override hides the change
    namespace = {}
    exec("def coin_game(config, ctx):\n    ctx.metrics.add('win', 1)\n", namespace)
    recoded = game(store=db)
    recoded.pipeline = [namespace["coin_game"]]
    with pytest.raises(ConfigError, match="code of step 'coin_game' changed"):
        recoded.run(resume=True)
    forced = changed.run(resume=True, force=True)
    assert forced.status == "completed"
    assert "force" in Store(db).run_row(forced.run_id)["note"]


def test_resume_without_a_store_is_an_error():
    with pytest.raises(ConfigError, match="resume needs a store"):
        game(store=None).run(resume=True)


def test_two_processes_writing_one_store_both_keep_everything(tmp_path):
    db = tmp_path / "shared.db"
    Store(db)  # create it first, as a user's earlier run would have
    procs = [
        subprocess.Popen([sys.executable, str(HERE / "store_child.py"), str(db), f"w{i}", "250", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        for i in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "completed 500"
        assert "locked" not in err
    store = Store(db)
    for name in ("w0", "w1"):
        (record,) = store.runs(name)
        assert (record.status, record.ok) == ("completed", 500)


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_corrupt_file_is_refused_naming_it_and_left_untouched(tmp_path):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    before = _sha(bad)
    with pytest.raises(StoreError, match=f"store {bad}: not a readable SQLite database"):
        Store(bad)
    with pytest.raises(StoreError, match="corrupt.db"):
        game(store=bad).run()
    assert _sha(bad) == before


def test_another_apps_database_is_refused_and_left_untouched(tmp_path):
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (id INTEGER)")
    conn.commit()
    conn.close()
    before = _sha(other)
    with pytest.raises(StoreError, match="not a Crystallize store.*tables: users"):
        Store(other)
    assert _sha(other) == before


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    db = tmp_path / "new.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer Crystallize \\(schema 99"):
        Store(db)


def test_export_round_trips(tmp_path):
    live = Experiment(name="exp", pipeline=[failing_on_odd], replicates=4, store=None,
                      treatments=[Treatment("t", {})]).run()
    back = type(live).from_json(live.to_json(tmp_path / "r.json"))
    assert back.run_id == live.run_id and back.status == live.status
    for cond in live.conditions:
        assert back.metrics[cond].metrics == live.metrics[cond].metrics
    assert [e.traceback for e in back.errors] == [e.traceback for e in live.errors]

    with open(live.to_csv(tmp_path / "r.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    ok_rows = [r for r in rows if r["metric"]]
    assert [(r["treatment"], int(r["replicate"]), r["metric"], int(r["value"])) for r in ok_rows] == [
        (r["treatment"], r["replicate"], r["metric"], r["value"]) for r in live.to_rows()
    ]
    failed_rows = [r for r in rows if not r["metric"]]
    assert {(r["treatment"], r["replicate"], r["status"]) for r in failed_rows} == {
        ("baseline", "1", "failed"), ("baseline", "3", "failed"), ("t", "1", "failed"), ("t", "3", "failed")
    }


def test_to_dataframe_when_pandas_is_installed():
    pd = pytest.importorskip("pandas")
    live = game(store=None).run()
    frame = live.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(live.to_rows())


def test_artifacts_and_output_are_recorded_with_their_run(tmp_path):
    def step(config, ctx):
        print(f"line {ctx.replicate}")
        ctx.emit("tick", n=ctx.replicate)
        ctx.artifacts.save("out.txt", f"replicate {ctx.replicate}")

    db = tmp_path / "s.db"
    live = Experiment(name="art", pipeline=[step], replicates=2, store=db,
                      plugins=[ArtifactPlugin(tmp_path / "art")]).run(echo=False)
    store = Store(db)
    arts = store.artifacts(live.run_id)
    assert [(a["replicate"], a["name"], a["size"]) for a in arts] == [(0, "out.txt", 11), (1, "out.txt", 11)]
    assert arts[0]["sha256"] == hashlib.sha256(b"replicate 0").hexdigest()
    assert Path(arts[1]["path"]).read_text() == "replicate 1"
    logged = store.events(live.run_id)
    assert {"kind": "output", "stream": "stdout", "text": "line 1", "treatment": "baseline",
            "replicate": 1} == {k: v for k, v in logged[2].items() if k != "time"}
    assert logged[1]["data"] == {"n": 0}


def test_the_event_log_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(recorder_mod, "MAX_EVENTS_PER_RUN", 50)

    def step(config, ctx):
        for i in range(40):
            ctx.emit("tick", i=i)

    db = tmp_path / "s.db"
    live = Experiment(name="chatty", pipeline=[step], replicates=3, store=db).run()
    kept = Store(db).events(live.run_id, limit=10_000)
    assert len(kept) == 50
    assert Store(db).run_row(live.run_id)["events_dropped"] == 70
    # The newest are kept: the last 10 of replicate 1, then all 40 of replicate 2.
    assert [(e["replicate"], e["data"]["i"]) for e in (kept[0], kept[-1])] == [(1, 30), (2, 39)]
