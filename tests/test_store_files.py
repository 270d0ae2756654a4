"""The store file under faults, through the CLI: damaged, deleted mid-run, in a read-only folder."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_support import cli, damage_middle_page, write_experiment

from crystallize_tui import Experiment, Store, StoreError

STEPS = """
import os, time

def step(config, ctx):
    for i in range(10):
        ctx.metrics.add(f"m{i}", ctx.rng.random())
    if ctx.replicate == config.get("delete_at", -1):
        # The user (or a cleanup script) deletes the store while the run goes on.
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(os.environ["STORE"] + suffix):
                os.remove(os.environ["STORE"] + suffix)
"""


@pytest.fixture
def workspace(tmp_path):
    write_experiment(tmp_path, "many", "pipeline: [steps:step]\nreplicates: 100\n"
                     "treatments:\n  t: {delete_at: -1}\n", {"steps.py": STEPS})
    return tmp_path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def damaged_copy(workspace: Path, journal_mode: str) -> Path:
    """A store with runs whose schema and meta pages are intact but one data page is not."""
    good = workspace / ".crystallize" / "crystallize.db"
    assert cli(workspace, "run", "many").returncode == 0
    bad = workspace / f"damaged-{journal_mode}.db"
    with sqlite3.connect(good) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"VACUUM INTO '{bad}'")
    with sqlite3.connect(bad) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    damage_middle_page(bad)
    with sqlite3.connect(f"{bad.as_uri()}?mode=ro", uri=True) as conn:  # the schema still reads
        assert conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchone() == ("crystallize",)
    return bad


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_damaged_store_with_an_intact_schema_is_refused_byte_for_byte_unchanged(workspace, journal_mode):
    bad = damaged_copy(workspace, journal_mode)
    before = sha(bad)
    out = cli(workspace, "run", "many", "--store", str(bad))
    assert out.returncode == 2
    assert f"store {bad}: the file is damaged" in out.stderr and "nothing was changed" in out.stderr
    assert "Traceback" not in out.stderr
    assert sha(bad) == before
    assert sorted(p.name for p in workspace.glob("damaged-*")) == [bad.name]  # no -wal or -journal left
    with pytest.raises(StoreError, match="damaged"):
        Experiment(name="many", pipeline=[len], store=bad).run()
    assert sha(bad) == before


def test_a_store_deleted_during_a_run_is_reported_not_claimed_as_stored(workspace):
    store = workspace / "d.db"
    out = cli(workspace, "run", "many", "--store", str(store), "--set", "delete_at=30",
              env={"STORE": str(store)})
    assert out.returncode == 2
    assert f"store {store}: the file was deleted while run" in out.stderr
    assert "Traceback" not in out.stderr
    assert "stored in" not in out.stdout


def test_a_store_deleted_between_two_runs_of_one_process_gets_the_second_run(tmp_path):
    db = tmp_path / "s.db"

    def step(config, ctx):
        ctx.metrics.add("x", ctx.replicate)

    exp = Experiment(name="twice", pipeline=[step], replicates=3, store=db)
    exp.run()
    db.unlink()
    second = exp.run()
    assert [r.run_id for r in Store(db).runs("twice")] == [second.run_id]


def unprivileged() -> tuple[str, ...]:
    """A command prefix under which file permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


def test_a_store_in_a_read_only_folder_is_read_and_refuses_runs_saying_why(workspace):
    prefix = unprivileged()
    first = cli(workspace, "run", "many")
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.strip().splitlines()[-1].split()[1]
    folder = workspace / ".crystallize"
    db = folder / "crystallize.db"
    with sqlite3.connect(db) as conn:  # as a finished run leaves it: no pending log
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before, listing = sha(db), sorted(os.listdir(folder))
    folder.chmod(0o555)
    try:
        history = cli(workspace, "history", "many", prefix=prefix)
        assert history.returncode == 0, history.stderr
        assert run_id in history.stdout
        shown = cli(workspace, "show", run_id, prefix=prefix)
        assert shown.returncode in (0, 1) and run_id in shown.stdout, shown.stderr
        export = cli(workspace, "export", run_id, "-f", "csv", prefix=prefix)
        assert export.returncode == 0 and len(export.stdout.splitlines()) > 100, export.stderr

        refused = cli(workspace, "run", "many", prefix=prefix)
        assert refused.returncode == 2
        (line,) = refused.stderr.strip().splitlines()
        assert f"store {db}: read-only: no permission to write in the folder {folder}" in line
        assert "not a readable SQLite database" not in line
    finally:
        folder.chmod(0o755)
    assert sha(db) == before and sorted(os.listdir(folder)) == listing


def test_an_unreadable_store_file_names_the_permission_problem(workspace):
    prefix = unprivileged()
    assert cli(workspace, "run", "many").returncode == 0
    db = workspace / ".crystallize" / "crystallize.db"
    db.chmod(0o000)
    try:
        out = cli(workspace, "history", "many", prefix=prefix)
    finally:
        db.chmod(0o644)
    assert out.returncode == 2
    assert f"store {db}: permission denied: you cannot read the file (mode ----------" in out.stderr


def test_a_pending_log_in_a_read_only_folder_is_explained_not_called_corrupt(tmp_path):
    prefix = unprivileged()
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "s.db"
    # A writer that died before its log was merged into the file leaves s.db-wal behind.
    subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import os
        from crystallize_tui import Experiment
        def step(config, ctx):
            ctx.metrics.add("x", 1)
        Experiment(name="w", pipeline=[step], replicates=3, store={str(db)!r}).run()
        os._exit(0)
    """)], check=True, timeout=120)
    (folder / "s.db-shm").unlink()
    assert (folder / "s.db-wal").stat().st_size > 0
    folder.chmod(0o555)
    try:
        out = subprocess.run(
            [*prefix, sys.executable, "-c",
             f"from crystallize_tui import Store\nStore({str(db)!r})"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        folder.chmod(0o755)
    assert out.returncode != 0
    assert "its log s.db-wal holds changes not yet in the file" in out.stderr
    assert f"no permission to write in the folder {folder}" in out.stderr
    assert "not a readable SQLite database" not in out.stderr


def test_reading_commands_never_create_a_store_where_there_is_none(workspace):
    # A mistyped --store (or a fresh workspace): reading must not leave a new store behind.
    typo = workspace / "typo" / "runs.db"
    for args in (("history", "many"), ("list",), ("diff", "many", "baseline", "t")):
        for where in (("--store", str(typo)), ()):
            out = cli(workspace, *where, *args)
            assert out.returncode == 0, (args, out.stderr)
    assert not (workspace / "typo").exists() and not (workspace / ".crystallize").exists()
    for args in (("show", "20990101-000000-abcdef"), ("export", "20990101-000000-abcdef")):
        out = cli(workspace, "--store", str(typo), *args)
        assert out.returncode == 2
        assert out.stderr == (f"crystallize: error: store {typo}: no run '20990101-000000-abcdef': "
                              "there is no such file, no run was recorded there\n")
    assert not (workspace / "typo").exists()


def test_show_and_export_refuse_a_damaged_store_rather_than_read_a_run_short(workspace):
    # The damaged page holds metric rows: read as it is, export gave 588 of 2001 lines, exit 0.
    bad = damaged_copy(workspace, "wal")
    before = sha(bad)
    run_id = Store(workspace / ".crystallize" / "crystallize.db").runs("many")[0].run_id
    for args in (("show", run_id), ("export", run_id), ("export", run_id, "-f", "json")):
        out = cli(workspace, "--store", str(bad), *args)
        assert out.returncode == 2, (args, out.stdout)
        (line,) = out.stderr.strip().splitlines()
        assert line.startswith(f"crystallize: error: store {bad}: the file is damaged ("), line
        assert ".recover" in line
    assert sha(bad) == before


def test_a_store_too_damaged_to_list_its_runs_is_called_damaged(workspace):
    bad = damaged_copy(workspace, "wal")
    data = bytearray(bad.read_bytes())
    for page in range(4096 * 2, len(data), 4096):  # every page but the schema's
        data[page : page + 100] = b"\xff" * 100
    bad.write_bytes(bytes(data))
    before = sha(bad)
    for args in (("history", "many"), ("list",)):
        out = cli(workspace, "--store", str(bad), *args)
        assert out.returncode == 2, (args, out.stdout)
        (line,) = out.stderr.strip().splitlines()
        assert line.startswith(f"crystallize: error: store {bad}: the file is damaged ("), line
    assert sha(bad) == before


def test_a_store_folder_that_is_a_file_is_named_as_such(workspace):
    a_file = workspace / "notes.txt"
    a_file.write_text("not a folder\n")
    for where in ({"env": {"CRYSTALLIZE_HOME": str(a_file)}, "args": ()},
                  {"env": None, "args": ("--store", str(a_file / "sub" / "s.db"))}):
        out = cli(workspace, *where["args"], "run", "many", env=where["env"])
        assert out.returncode == 2
        (line,) = out.stderr.strip().splitlines()
        assert f"cannot create it: {a_file} is a file, not a folder" in line, line
        assert "permission" not in line
    assert a_file.read_text() == "not a folder\n"
