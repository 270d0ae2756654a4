"""What the TUI says about the statistics, through the Pilot on a real run: pairing by
seed explained under the table, hypotheses in words on Home."""

import asyncio
import io
import textwrap
from pathlib import Path

from rich.console import Console
from rich.text import Text
from textual.widgets import Static, Tree

from crystallize_tui.tui.app import make_app
from crystallize_tui.tui.screens.home import HomeScreen
from crystallize_tui.tui.screens.run import RunScreen

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


def text_of(widget) -> str:
    console = Console(width=150, color_system=None, record=True, file=io.StringIO())
    content = widget.content
    console.print(content if not isinstance(content, str) else Text(content))
    return " ".join(console.export_text().split())


async def until(pilot, condition, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


async def test_run_screen_explains_pairing_and_home_reads_hypotheses_as_words(tmp_path: Path):
    folder = tmp_path / "experiments" / "coin"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(textwrap.dedent(YAML))
    (folder / "game.py").write_text(textwrap.dedent(STEP))
    app = make_app(tmp_path, tmp_path / ".crystallize" / "crystallize.db", watch=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen)
                    and app.screen.discovery is not None)
        await pilot.pause()
        home = app.screen
        tree = home.query_one("#experiments", Tree)
        for line in range(tree.last_line + 1):
            node = tree.get_node_at_line(line)
            if node is not None and node.data and node.data[0] == "experiment":
                tree.move_cursor(node)
        await pilot.pause()
        await pilot.pause()
        details = text_of(home.query_one("#details", Static))
        assert "score differs from baseline in every treatment" in details
        assert "two-sided than" not in details
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunScreen)
                    and app.screen.result is not None)
        verdicts = text_of(app.screen.query_one("#verdicts", Static))
        assert "common random numbers" in verdicts and "real A/B test" in verdicts
        assert "p adj: holm within each metric, across its treatments" in verdicts
        assert "win greater in biased" in verdicts and "unpaired" in verdicts
        # a row's note is on screen too: 6 pairs with few discordant ones cannot reach alpha
        assert "win / biased:" in verdicts and "cannot be significant" in verdicts
