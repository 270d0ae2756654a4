"""Dialogs at 80x24: taller than the terminal, their body scrolls and their buttons stay in
sight (the help on a run screen lost its Close button; the launch dialog its Run button)."""

from textual.widgets import Button
from tui_support import app_for, open_launch, run_to_end, until, write

from crystallize_tui.tui.screens.dialogs import HelpScreen

STEP = '''
def play(config, ctx):
    ctx.metrics.add("score", ctx.rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:play]
datasource: {mu: 0.0}
replicates: 3
treatments:
  better: {mu: 1.0}
'''


def in_sight(app, widget) -> bool:
    """The widget is drawn whole inside the screen and inside its dialog."""
    dialog = widget.query_ancestor(".dialog")
    return (app.screen.region.contains_region(widget.region) and widget.region.height > 0
            and dialog.content_region.contains_region(widget.region))


async def test_help_and_launch_keep_their_buttons_in_sight_at_80x24(tmp_path):
    write(tmp_path / "experiments" / "game", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_to_end(app, pilot, "game")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        close = app.screen.query_one("#close", Button)
        assert in_sight(app, close), (close.region, app.screen.region)
        body = app.screen.query_one(".dialog-body")
        assert body.max_scroll_y > 0  # the run screen's keys do not fit: the list scrolls
        await pilot.press("pagedown")
        await until(pilot, lambda: body.scroll_y == body.max_scroll_y)
        assert in_sight(app, close)
        await pilot.press("enter")  # Close keeps the focus
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        dialog = await open_launch(app, pilot, "game")
        for button in dialog.query(Button):
            assert in_sight(app, button), (button.id, button.region)
