"""A stored run opened from History in a damaged store: refused with the store's own message,
never shown cut short (the UI checks the file whole, as `crystallize show` does)."""

import sqlite3

import pytest
from cli_support import cli, damage_middle_page
from textual.widgets import DataTable
from tui_support import COIN, GAME, app_for, home_ready, select, until, write

from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.run import RunScreen


def damage_a_middle_page(db) -> None:
    """Damage one data page; the schema and the runs table stay readable."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = delete")
    damage_middle_page(db)
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    return tmp_path


async def test_a_run_in_a_damaged_store_is_refused_not_shown_cut_short(workspace):
    assert cli(workspace, "run", "coin", "-n", "300").returncode == 0
    db = workspace / ".crystallize" / "crystallize.db"
    damage_a_middle_page(db)
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        def said() -> bool:
            return any("damaged" in n.message for n in app._notifications)

        # Where the damaged page lies decides whether History can list the run at all (the
        # counts read the replicates): either way the damage is said, never a crash.
        await until(pilot, lambda: app.screen.query_one("#runs", DataTable).row_count == 1 or said())
        if not said():
            app.screen.query_one("#runs", DataTable).focus()
            await pilot.pause()
            await pilot.press("enter")
            await until(pilot, said)
        await pilot.pause()
        assert not isinstance(app.screen, RunScreen)


async def test_home_lists_the_experiments_when_the_store_cannot_be_read(workspace):
    db = workspace / ".crystallize" / "crystallize.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database" * 200)
    app = app_for(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        home = await home_ready(app, pilot)  # timed out before: discovery died with the store
        assert "coin" in [found.name for found in home.discovery.experiments]
        await until(pilot, lambda: any("store unreadable" in (n.title or "")
                                       for n in app._notifications))


async def test_history_of_an_unreadable_store_says_so_instead_of_crashing(workspace):
    assert cli(workspace, "run", "coin", "-n", "5").returncode == 0
    app = app_for(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "coin")
        db = workspace / ".crystallize" / "crystallize.db"
        for leftover in db.parent.glob("crystallize.db-*"):  # its WAL too: the whole file gone bad
            leftover.unlink()
        db.write_bytes(b"this is not a database" * 200)
        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await until(pilot, lambda: "store unreadable" in [n.title for n in app._notifications])
        status = str(app.screen.query_one("#history-status").content)
        assert "crystallize.db" in status and app.screen.query_one("#runs", DataTable).row_count == 0
