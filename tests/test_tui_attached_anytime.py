"""The attached run screen's live anytime rows match the progress they are shown with, and
follow the correction of the run's stop rule."""

import re
import subprocess
import sys

from cli_support import cli_env
from tui_support import app_for, home_ready, until, write

from crystallize_tui.tui.screens.attached import AttachedRunScreen
from crystallize_tui.tui.widgets.stats_table import StatsTable
from crystallize_tui.tui.widgets.tables import ProgressTable

GAME = '''
import pathlib
import time

def play(config, ctx):
    deadline = time.monotonic() + 60
    while pathlib.Path(f"hold{ctx.replicate}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # the test lets the run go on one round at a time
    ctx.metrics.add("x", ctx.rng.gauss(config["shift"], 1.0))
'''

YAML = '''
pipeline: [game:play]
datasource: {shift: 0.0}
replicates: 4
treatments:
  fast: {shift: 1.0}
run: {stop: decided, max_replicates: 4, correction: e-bh}
'''


def rounds_in(note: str) -> int | None:
    found = re.search(r"live: (\d+) replicate\(s\) done in every condition", note)
    return int(found.group(1)) if found else None


async def test_the_live_note_counts_the_rounds_the_progress_shows(tmp_path):
    write(tmp_path / "experiments" / "held", {"experiment.yaml": YAML, "game.py": GAME})
    holds = [tmp_path / f"hold{k}" for k in (1, 2, 3)]
    for hold in holds:
        hold.touch()
    started = subprocess.run([sys.executable, "-m", "crystallize_tui.cli", "run", "held", "--detach"],
                             cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[0]
    app = app_for(tmp_path)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await home_ready(app, pilot)
            experiment = next(f.experiment for f in app.discovery.experiments
                              if f.experiment.name == "held")
            app.open_stored_run(experiment, run_id)  # running in another process: attached
            await until(pilot, lambda: isinstance(app.screen, AttachedRunScreen))
            screen = app.screen
            progress = screen.query_one("#progress", ProgressTable)
            stats = screen.query_one("#stats", StatsTable)
            await until(pilot, lambda: rounds_in(stats.note) == 1)  # round 0, read on attaching
            for k, hold in enumerate(holds[:2], start=2):
                hold.unlink()  # round k - 1 runs
                await until(pilot, lambda k=k: progress.finished_count == 2 * k)
                # Read the moment the progress shows the round: the note says it too.
                assert rounds_in(stats.note) == k, (k, stats.note)
            # The interval is labelled with the level its decision is made at (one row: alpha),
            # and the rows are decided with the run's own rule's correction, read from the store.
            assert str(stats.lines[0].cells["difference"]).endswith("α 0.05")
            assert "e-BH across 1 row(s)" in stats.note
            holds[2].unlink()  # the last round; then the final table replaces the live rows
            await until(pilot, lambda: screen.result is not None)
    finally:
        for hold in holds:
            hold.unlink(missing_ok=True)
