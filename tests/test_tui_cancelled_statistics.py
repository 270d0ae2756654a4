"""A cancelled run's statistics from the terminal UI: replicates it never started are not
pairs dropped for a missing value (the Pilot, a real serial run, the real store)."""

import textwrap

from test_tui import app_for, home_ready, select, text_of, until
from textual.widgets import Static

from crystallize_tui.tui.screens.run import RunScreen

STEP = '''
import time

def measure(config, ctx):
    time.sleep(config["delay"])
    ctx.metrics.add("m", ctx.rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:measure]
datasource: {mu: 0.0, delay: 0.02}
replicates: 200
treatments:
  shifted: {mu: 0.5}
'''


async def test_cancelled_run_compares_only_the_replicates_that_ran_on_both_sides(tmp_path):
    folder = tmp_path / "experiments" / "slowish"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(textwrap.dedent(YAML))
    (folder / "steps.py").write_text(textwrap.dedent(STEP))
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await home_ready(app, pilot)
        await select(pilot, home, "slowish")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and sum(
            e.treatment == "shifted" for e in app.screen.finished) >= 3, timeout=60)
        screen = app.screen
        await pilot.press("c")
        await until(pilot, lambda: screen.result is not None, timeout=60)
        assert screen.result.cancelled
        ran = {c: {r.replicate for r in screen.result.replicate_results if r.treatment == c}
               for c in ("baseline", "shifted")}
        both = len(ran["baseline"] & ran["shifted"])
        assert ran["baseline"] != ran["shifted"] or both < 200  # the run stopped part-way
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "dropped" not in verdicts, verdicts
        assert f"statistics over the {both} replicate(s) that ran in every condition" in verdicts
        row = [str(cell) for cell in screen.query_one("#stats").get_row_at(0)]
        assert f"{both} pairs" in row, row
