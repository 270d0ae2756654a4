"""A cancelled run's statistics from the terminal UI: replicates it never started are not
pairs dropped for a missing value (the Pilot, a real serial run, the real store)."""


from textual.widgets import Static
from tui_support import app_for, cancel_after, start_run, text_of, until, write

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
    write(tmp_path / "experiments" / "slowish", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "slowish")
        await until(pilot, lambda: sum(e.treatment == "shifted" for e in screen.finished) >= 3)
        await cancel_after(pilot, screen, 0)
        ran = {c: {r.replicate for r in screen.result.replicate_results if r.treatment == c}
               for c in ("baseline", "shifted")}
        both = len(ran["baseline"] & ran["shifted"])
        assert ran["baseline"] != ran["shifted"] or both < 200  # the run stopped part-way
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "dropped" not in verdicts, verdicts
        assert f"statistics over the {both} replicate(s) that ran in every condition" in verdicts
        row = [str(cell) for cell in screen.query_one("#stats").get_row_at(0)]
        assert f"{both} pairs" in row, row
