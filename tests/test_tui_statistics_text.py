"""What the TUI says about the statistics, through the Pilot on a real run: pairing by
seed explained under the table, hypotheses in words on Home."""

from pathlib import Path

from textual.widgets import Static
from tui_support import app_for, on_home, ran_to_end, until, words_of, write

STEP = '''
def play(config, ctx):
    ctx.metrics.add("win", int(ctx.rng.random() < config["p"]))
    ctx.metrics.add("score", ctx.rng.gauss(config["p"], 1) + ctx.rng.random())
'''

YAML = '''
pipeline: [game:play]
datasource: {p: 0.3}
replicates: 6
seed: 1
treatments:
  biased: {p: 0.8}
hypotheses:
  - {metric: score, direction: two-sided}
  - {metric: win, direction: greater, test: fisher}
'''


async def test_run_screen_explains_pairing_and_home_reads_hypotheses_as_words(tmp_path: Path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": YAML, "game.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "coin")
        await pilot.pause()
        details = words_of(home.query_one("#details", Static))
        assert "score differs from baseline in every treatment" in details
        assert "two-sided than" not in details
        await pilot.press("r")
        await until(pilot, lambda: ran_to_end(app))
        verdicts = words_of(app.screen.query_one("#verdicts", Static))
        assert "common random numbers" in verdicts and "real A/B test" in verdicts
        assert "p adj: holm within each metric, across its treatments" in verdicts
        assert "win greater in biased" in verdicts and "unpaired" in verdicts
        # a row's note is on screen too: 6 pairs with few discordant ones cannot reach alpha
        assert "win / biased:" in verdicts and "cannot be significant" in verdicts
