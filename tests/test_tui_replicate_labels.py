"""The replicate table names each metric in full when it has the room (the README's own
example: mafia_survivors), through the Pilot on the bundled experiment."""

import shutil
from pathlib import Path

from tui_support import app_for, run_to_end

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


async def test_the_bundled_examples_metrics_are_named_in_full_at_160_columns(tmp_path):
    shutil.copytree(EXAMPLES / "social_deception", tmp_path / "experiments" / "social_deception")
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_to_end(app, pilot, "social_deception")
        await pilot.pause()
        table = screen.query_one("#replicates")
        labels = [column.label.plain for column in table.columns.values()]
        assert labels[3:] == ["win", "rounds", "mafia_survivors"]
        shown = sum(column.get_render_width(table) for column in table.columns.values())
        assert shown <= table.scrollable_content_region.width  # all in sight, no sideways scroll
