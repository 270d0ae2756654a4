"""Snapshot tests of every TUI screen, over a tiny workspace at a fixed path (pytest-textual-snapshot)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from crystallize_tui.core import replicate as replicate_mod
from crystallize_tui.core.folders import load_experiment
from crystallize_tui.core.store import Store
from crystallize_tui.tui.app import make_app
from crystallize_tui.tui.screens.debug import DebugScreen
from crystallize_tui.tui.screens.dialogs import HelpScreen, LaunchScreen
from crystallize_tui.tui.screens.history import CompareRunsScreen, HistoryScreen
from crystallize_tui.tui.screenshots import (
    experiment_named,
    select_experiment,
    settle,
    start_run,
    wait_until,
)

# Paths show on screen (title bar, details, history, tracebacks), so the workspace lives at
# a fixed path, one folder per test so parallel workers never share one.
WORKSPACES = Path("/tmp/crystallize-snapshot-ws")
SIZE = (120, 36)

pytestmark = pytest.mark.skipif(
    Path("/tmp").resolve() != Path("/tmp"),
    reason="the snapshots show /tmp paths; here /tmp is a symlink, so they would differ",
)

CHECKOUT_YAML = """\
# Five visitors per arm (every pane fits without scrolling): tiny, so a run takes milliseconds and elapsed times read 0:00.
name: checkout
description: Does the one-page checkout convert more visitors?
pipeline: [shop:visit]
datasource: {conversion_rate: 0.3, pages: 3, currency: EUR}
replicates: 5
seed: 11
treatments:
  one_page: {conversion_rate: 0.6, pages: 1}
hypotheses:
  - {metric: converted, direction: greater}
"""
SHOP_PY = '''\
"""One visitor of the checkout."""


def visit(config, ctx):
    converted = ctx.rng.random() < config["conversion_rate"]
    basket = round(ctx.rng.uniform(10.0, 60.0), 2)
    print(f"visitor {'bought' if converted else 'left'} after {config['pages']} page(s)")
    ctx.metrics.add("converted", int(converted))
    ctx.metrics.add("basket", basket if converted else 0.0)
'''
CLEANING_YAML = """\
# strict_parse fails on purpose: it does not skip the malformed row.
name: cleaning
description: Does dropping outliers move the mean?
pipeline: [clean:load_rows, clean:summarise]
datasource: {rows: 12, outlier_cut: 3.0, strict: false}
replicates: 2
seed: 7
treatments:
  drop_outliers: {outlier_cut: 1.5}
  strict_parse: {strict: true}
"""
CLEAN_PY = '''\
"""Load rows of a noisy export and summarise them; one row is malformed."""


def load_rows(config, ctx):
    rows = [f"{ctx.rng.gauss(10.0, 2.0):.2f}" for _ in range(config["rows"])]
    rows[5] = "n/a"
    print(f"loaded {len(rows)} rows")
    return rows


def summarise(rows, ctx):
    config = ctx.config
    values = []
    for row in rows:
        if row == "n/a" and not config["strict"]:
            continue
        values.append(float(row))
    mean = sum(values) / len(values)
    kept = [v for v in values if abs(v - mean) <= config["outlier_cut"] * 2.0]
    ctx.metrics.add("mean", sum(kept) / len(kept))
'''


def _utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


# Runs recorded before each test: id -> (experiment, run options, fixed start, fixed length).
RECORDED = {
    "run-0001": ("checkout", {"seed": 11}, _utc(2026, 1, 1, 9, 0), 2.5),
    "run-0002": ("checkout", {"seed": 12}, _utc(2026, 1, 2, 10, 30), 3.0),
    "run-0003": ("cleaning", {}, _utc(2026, 1, 3, 11, 0), 0.5),
}


class Workspace:
    """The test's workspace folder, and apps over it whose stores are closed afterwards."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_path = root / "store.db"
        self.apps: list[Any] = []

    def app(self) -> Any:
        app = make_app(self.root, self.store_path, watch=False)
        self.apps.append(app)
        return app


def _write(folder: Path, yaml_text: str, module: str, source: str) -> None:
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(yaml_text)
    (folder / module).write_text(source)


def _record_runs(root: Path, store_path: Path) -> None:
    # A Store of our own (not the per-process shared one): the folder is deleted and
    # rebuilt for every test, and a shared Store would keep connections to the old file.
    store = Store(store_path)
    try:
        for run_id, (name, options, _, _) in RECORDED.items():
            experiment = load_experiment(root / "experiments" / name)
            experiment.store = store
            experiment.run(echo=False, run_id=run_id, **options)
    finally:
        store.close()
    with sqlite3.connect(store_path) as conn:
        for run_id, (_, _, started, length) in RECORDED.items():
            conn.execute("UPDATE runs SET started_at = ?, finished_at = ? WHERE run_id = ?",
                         (started, started + length, run_id))
            conn.execute("UPDATE replicates SET finished_at = ? WHERE run_id = ?",
                         (started + length, run_id))
    conn.close()


@pytest.fixture
def workspace(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    import fcntl

    # Another pytest on this machine would delete and rebuild the same fixed folders under
    # this test's feet: take turns.
    WORKSPACES.mkdir(parents=True, exist_ok=True)
    with open(WORKSPACES / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _workspace(WORKSPACES / request.node.name, monkeypatch)


def _workspace(root: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    shutil.rmtree(root, ignore_errors=True)
    _write(root / "experiments" / "checkout", CHECKOUT_YAML, "shop.py", SHOP_PY)
    _write(root / "experiments" / "cleaning", CLEANING_YAML, "clean.py", CLEAN_PY)
    # Dates on screen are local time: pin the zone so every machine draws the same ones.
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    # Step and replicate durations (debug log, replicate table) are measured with this
    # clock; frozen, they read 0.000s even on a loaded machine.
    monkeypatch.setattr(replicate_mod, "_clock", lambda: 0.0)
    # The processes the app starts (a debug) freeze it too: that folder's sitecustomize.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parent / "frozen_clock"), os.environ.get("PYTHONPATH")])))
    ws = Workspace(root)
    try:
        _record_runs(root, ws.store_path)
        yield ws
    finally:
        for app in ws.apps:
            app.workspace.store.close()
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()


async def loaded(pilot: Any) -> None:
    """The home screen filled from discovery and the store."""
    await wait_until(pilot, lambda: pilot.app.discovery is not None, "the experiments to load")
    await settle(pilot)


def test_home(snap_compare: Any, workspace: Workspace) -> None:
    """Experiments with their last runs (completed, failed); checkout's details."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        select_experiment(pilot.app, "checkout")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_run_completed(snap_compare: Any, workspace: Workspace) -> None:
    """A finished run: progress, final statistics, hypothesis verdict, output, replicates."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        screen = start_run(pilot.app, experiment_named(pilot.app, "checkout"),
                           {"run_id": "run-0100"})
        await settle(pilot)
        await wait_until(pilot, lambda: screen.result is not None, "the run to finish")
        await settle(pilot)
        assert screen.result.status == "completed"

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_run_completed_80x24(snap_compare: Any, workspace: Workspace) -> None:
    """The same at 80x24: panes stacked, the verdict in sight, esc, ? and q in the footer."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        screen = start_run(pilot.app, experiment_named(pilot.app, "checkout"),
                           {"run_id": "run-0100"})
        await wait_until(pilot, lambda: screen.result is not None, "the run to finish")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=(80, 24), run_before=run_before)


def test_debug_failure(snap_compare: Any, workspace: Workspace) -> None:
    """Debugging the failing treatment: its events, then its highlighted traceback."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await loaded(pilot)
        app.action_debug_condition(experiment_named(app, "cleaning"), "strict_parse", 0)
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DebugScreen)
                         and app.screen.error is not None, "the replicate to fail")
        await settle(pilot)
        # The traceback is taller than its pane: its end holds the failing line and the error.
        app.screen.query_one("#traceback-pane").scroll_end(animate=False, immediate=True)
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_history(snap_compare: Any, workspace: Workspace) -> None:
    """Checkout's two recorded runs, newest first, at their pinned times."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        pilot.app.action_open_history(experiment_named(pilot.app, "checkout"))
        await settle(pilot)
        assert isinstance(pilot.app.screen, HistoryScreen)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_compare_runs(snap_compare: Any, workspace: Workspace) -> None:
    """From the history: mark the older run (space), highlight the newer, compare (c)."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        pilot.app.action_open_history(experiment_named(pilot.app, "checkout"))
        await settle(pilot)
        await pilot.press("down", "space", "up", "c")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CompareRunsScreen)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_diff(snap_compare: Any, workspace: Workspace) -> None:
    """Baseline against one_page: only the keys that differ."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        pilot.app.action_open_diff(experiment_named(pilot.app, "checkout"))
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_launch_dialog(snap_compare: Any, workspace: Workspace) -> None:
    """enter on an experiment: the launch options, prefilled from the experiment."""

    async def run_before(pilot: Any) -> None:
        from textual.widgets import Input

        app = pilot.app
        await loaded(pilot)
        select_experiment(app, "checkout")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert [type(s) for s in app.screen_stack].count(LaunchScreen) == 1
        # A blinking cursor would be drawn or not depending on when the shot is taken.
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_confirm_dialog(snap_compare: Any, workspace: Workspace) -> None:
    """C on an experiment with hypotheses: what the confirmatory run locks, its seed stream."""

    async def run_before(pilot: Any) -> None:
        from textual.widgets import Input

        from crystallize_tui.tui.screens.confirming import ConfirmRunScreen

        app = pilot.app
        await loaded(pilot)
        select_experiment(app, "checkout")
        await settle(pilot)
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunScreen)
                         and "of base seed" in str(app.screen.query_one("#stream").content),
                         "the seed stream")
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_run_pair(snap_compare: Any, workspace: Workspace) -> None:
    """p on a finished run: one_page − baseline corrected across every metric of the table."""

    async def run_before(pilot: Any) -> None:
        from crystallize_tui.tui.screens.pair_view import PairPickerScreen

        app = pilot.app
        await loaded(pilot)
        screen = start_run(app, experiment_named(app, "checkout"), {"run_id": "run-0101"})
        await wait_until(pilot, lambda: screen.result is not None, "the run to finish")
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PairPickerScreen), "the picker")
        app.screen.query_one("#pair-family").value = "table"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.pair_shown is not None, "the pair's table")
        await settle(pilot)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Any, workspace: Workspace) -> None:
    """? on the experiments screen: its keys and the app's."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)

    assert snap_compare(workspace.app(), terminal_size=SIZE, run_before=run_before)


def test_history_80x24(snap_compare: Any, workspace: Workspace) -> None:
    """History at 80x24: run, when, status, done and verdict; the highlighted run's rest below."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        pilot.app.action_open_history(experiment_named(pilot.app, "checkout"))
        await settle(pilot)
        assert isinstance(pilot.app.screen, HistoryScreen)

    assert snap_compare(workspace.app(), terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare: Any, workspace: Workspace) -> None:
    """? on a finished run at 80x24: the keys scroll, Close stays in sight."""

    async def run_before(pilot: Any) -> None:
        await loaded(pilot)
        screen = start_run(pilot.app, experiment_named(pilot.app, "checkout"),
                           {"run_id": "run-0100"})
        await wait_until(pilot, lambda: screen.result is not None, "the run to finish")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)

    assert snap_compare(workspace.app(), terminal_size=(80, 24), run_before=run_before)
