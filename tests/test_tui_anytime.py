"""The run screen's statistics while a run goes: anytime-valid rows with what their method
assumes, never a fixed-n "significant"; the final table keeps the fixed-n tests (labelled)
beside the anytime result (the Pilot, a real run process, the real store)."""

from textual.widgets import Static
from tui_support import app_for, cancel_after, start_run, text_of, until, write

STEP = '''
import random
import time

def measure(config, ctx):
    time.sleep(config["delay"] * (5 if ctx.replicate < 30 else 1))  # the burn-in is seen
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("m", rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:measure]
datasource: {mu: 0.0, delay: 0.01}
replicates: 2000
treatments:
  shifted: {mu: 2.0}
'''


def cells(table) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_live_panel_shows_anytime_rows_and_never_significant(tmp_path):
    write(tmp_path / "experiments" / "shift", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(180, 48)) as pilot:
        screen = await start_run(app, pilot, "shift")
        stats = screen.query_one("#stats")
        seen: list[list[str]] = []

        def decided() -> bool:
            rows = cells(stats)
            if screen.running and rows:
                seen.extend(rows)
            return any("decided: higher" in row for row in rows) and screen.running

        await until(pilot, decided)
        assert screen.running  # all of this while the run goes
        assert not any("significant" in cell for row in seen for cell in row), seen
        assert any("burn-in" in cell for row in seen for cell in row)  # said while it waited
        labels = [str(c.label) for c in stats.ordered_columns]
        assert "difference · anytime CI" in labels and "anytime" in labels
        assert "verdict" not in labels and "p adj" not in labels
        row = cells(stats)[0]
        assert row[:2] == ["m", "shifted"] and "asymptotic" in row
        # Said in the note; under the pane, the words that fit beside the hint for enter.
        assert "not a verdict yet" in stats.note
        assert stats.parent.border_subtitle.startswith("live: ")
        await cancel_after(pilot, screen, 0)
        # The final table: the fixed-n tests, labelled so, and the anytime result beside them.
        labels = [str(c.label) for c in stats.ordered_columns]
        assert "fixed-n verdict" in labels and "anytime" in labels
        final = cells(stats)[0]
        # The anytime cell carries its footnote's mark (what the number assumes, under the table).
        assert "decided: higher *" in final and "significant" in final
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "cancelled: statistics over" in verdicts
        # No stop rule: the anytime column still names the correction that decided it.
        assert "anytime column: Holm step-down across 1 row(s), family-wise alpha 0.05" in verdicts


async def test_s_stops_the_run_at_the_current_look_not_cancelled(tmp_path):
    from tui_support import stored

    write(tmp_path / "experiments" / "shift", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(180, 48)) as pilot:
        screen = await start_run(app, pilot, "shift")
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 20)
        await pilot.press("s")
        await until(pilot, lambda: screen.result is not None)
        result = screen.result
        assert result.status == "stopped: at look" and not result.cancelled
        assert result.stop["reason"] == "at look" and result.stop["stopping_replicate"] >= 10
        assert "stopped: at look at replicate" in text_of(screen.query_one("#run-status", Static))
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "stopped: at look at replicate" in verdicts and "no stop rule" in verdicts
        assert "shifted m:" in verdicts
        ((status, stop),) = stored(tmp_path, "SELECT status, stop FROM runs")
        assert status == "stopped: at look" and '"reason": "at look"' in stop


async def test_the_launch_dialog_runs_until_decided_with_replicates_as_the_cap(tmp_path):
    from textual.widgets import Input, Select
    from tui_support import launch_to_end, open_launch

    write(tmp_path / "experiments" / "shift", {"experiment.yaml": YAML.replace("delay: 0.01", "delay: 0"),
                                               "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(180, 60)) as pilot:
        dialog = await open_launch(app, pilot, "shift")
        dialog.query_one("#until", Input).value = "soon"
        dialog.query_one("#replicates", Input).value = "300"
        await pilot.pause()
        dialog.action_launch()
        await pilot.pause()
        assert "choose 'decided' or 'width=W'" in text_of(dialog.query_one("#launch-error", Static))
        # The correction beside "stop when" decides the rule's rows; without a rule it has none.
        dialog.query_one("#until", Input).value = ""
        dialog.query_one("#correction", Select).value = "bonferroni"
        await pilot.pause()
        dialog.action_launch()
        await pilot.pause()
        assert "fill 'stop when'" in text_of(dialog.query_one("#launch-error", Static))
        dialog.query_one("#until", Input).value = "decided"
        screen = await launch_to_end(app, pilot, dialog)
        result = screen.result
        assert result.status == "stopped: decided" and result.stop["correction"] == "bonferroni"
        assert result.stop["max_replicates"] == 300 and result.stop["stopping_replicate"] < 300
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "stopped: decided at replicate" in verdicts and "rule decided, cap 300" in verdicts
        assert "anytime-valid rows: Bonferroni across 1 row(s)" in verdicts


async def test_s_on_an_attached_run_stops_it_and_the_screen_says_stopped_not_gone(tmp_path):
    """A run another process runs: `s` asks its process to stop at the current look; the
    attached screen ends on "stopped: at look", not on "the run's process is gone"."""
    import os
    import subprocess
    import sys

    from tui_support import stored

    from crystallize_tui.tui.screens.attached import AttachedRunScreen

    write(tmp_path / "experiments" / "shift", {"experiment.yaml": YAML, "steps.py": STEP})
    env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
    started = subprocess.run([sys.executable, "-m", "crystallize_tui.cli", "run", "shift",
                              "--detach"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    app = app_for(tmp_path, watch=True)
    async with app.run_test(size=(180, 48)) as pilot:
        experiment = next(f.experiment for f in (await _discovered(app, pilot)) if f.name == "shift")
        screen = AttachedRunScreen(experiment, run_id)
        app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen and bool(screen.query("#progress")))
        await until(pilot, lambda: screen.query_one("#progress").finished_count >= 10)
        await pilot.press("s")
        await until(pilot, lambda: screen.result is not None and not screen.running)
        await pilot.pause(0.5)
        status = text_of(screen.query_one("#run-status", Static))
        assert "stopped: at look" in status and "gone" not in status, status
    ((status,),) = stored(tmp_path, f"SELECT status FROM runs WHERE run_id = '{run_id}'")
    assert status == "stopped: at look"


async def _discovered(app, pilot):
    await until(pilot, lambda: app.discovery is not None)
    return app.discovery.experiments


def test_the_launch_dialog_offers_every_correction_the_statistics_know():
    from crystallize_tui.stats.family import CORRECTIONS, DEFAULT_CORRECTION
    from crystallize_tui.tui.screens import dialogs

    assert set(dialogs.CORRECTION_NAMES) == set(CORRECTIONS)
    assert dialogs.DEFAULT_CORRECTION == DEFAULT_CORRECTION == next(iter(dialogs.CORRECTION_NAMES))
