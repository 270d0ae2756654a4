"""The run screens at 80x24, as a person there sees them: the statistics' verdict without
scrolling sideways, and the footer's keys to leave and find help (the Pilot, real runs)."""

from textual.widgets import DataTable, Static
from tui_support import (
    app_for,
    cancel_after,
    footer_keys,
    home_ready,
    open_debug,
    open_newest_stored_run,
    run_to_end,
    start_run,
    until,
    write,
)

from crystallize_tui.tui.screens.dialogs import HelpScreen
from crystallize_tui.tui.screens.history import HistoryScreen

# Names as long as a real experiment's (the README's social_deception): at 80 columns the
# essential columns do not fit in full.
STEP = '''
import random
import time

def play(config, ctx):
    time.sleep(config.get("delay", 0))
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")  # noise of its own per condition
    ctx.metrics.add("mafia_survivors", rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:play]
datasource: {mu: 0.0}
replicates: 5
seed: 4
treatments:
  dolphin_spoilers_in_the_first_round: {mu: 0.1}
  gemma_prey: {mu: 0.2}
'''

SLOW = '''
pipeline: [steps:play]
datasource: {mu: 0.0, delay: 0.02}
replicates: 2000
seed: 4
treatments:
  a_much_longer_treatment_name: {mu: 3.0}
'''


def labels(table: DataTable) -> list[str]:
    return [column.label.plain for column in table.ordered_columns]


def fits(table: DataTable) -> bool:
    """Every column shown is in sight without scrolling sideways."""
    used = sum(column.get_render_width(table) for column in table.ordered_columns)
    return used <= table.scrollable_content_region.width


async def test_the_verdict_shows_at_80_columns_and_enter_gives_it_whole(tmp_path):
    write(tmp_path / "experiments" / "game", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_to_end(app, pilot, "game")
        await pilot.pause()
        stats = screen.query_one("#stats", DataTable)
        shown = labels(stats)
        assert shown == ["metric", "treatment", "difference [CI]", "verdict"]
        assert fits(stats)
        verdicts = [str(stats.get_row_at(row)[3]) for row in range(stats.row_count)]
        assert set(verdicts) <= {"signif.", "not sig."} and verdicts, verdicts
        # A name too long for the rest to fit is cut; enter names it whole.
        name = str(stats.get_row_at(0)[1])
        assert name.startswith("dolphin_spoilers_in") and name.endswith("…"), name
        assert str(stats.get_row_at(0)[0]) == "mafia_survivors"
        # The count of columns left out is in sight under the pane, not cut off.
        pane = screen.query_one("#stats-pane")
        hidden = len(stats.hidden_columns)
        assert hidden == 8  # p adj, anytime, test, n, effect, p, both means
        assert pane.border_subtitle.endswith(f"enter: every figure (+{hidden} columns)")
        assert len(pane.border_subtitle) <= pane.region.width - 4
        stats.focus()
        stats.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.heading == "mafia_survivors: dolphin_spoilers_in_the_first_round vs baseline"
        figures = dict(app.screen.figures)
        assert figures["verdict"] in ("significant", "not significant")
        assert figures["verdict"].startswith(verdicts[0].rstrip("."))


async def test_the_anytime_decision_shows_at_80_columns_while_a_run_goes(tmp_path):
    write(tmp_path / "experiments" / "slow", {"experiment.yaml": SLOW, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_run(app, pilot, "slow")
        stats = screen.query_one("#stats", DataTable)
        await until(pilot, lambda: screen.running and stats.live and stats.row_count
                    and str(stats.get_row_at(0)[-1]).startswith("decided"))
        assert screen.running
        # The interval without its level (enter gives it), to leave room for the decision.
        assert labels(stats) == ["metric", "treatment", "anytime CI", "anytime"]
        assert fits(stats)
        assert str(stats.get_row_at(0)[1]).startswith("a_much_longer")  # whole or cut (…)
        assert " α " not in str(stats.get_row_at(0)[2])
        assert str(stats.get_row_at(0)[3]).startswith("decided: higher")
        subtitle = screen.query_one("#stats-pane").border_subtitle
        assert subtitle.endswith(f"(+{len(stats.hidden_columns)} columns)") and "live: " in subtitle
        await cancel_after(pilot, screen, 0)


def assert_can_leave_and_find_help(app, width: int = 80) -> dict[str, tuple[str, int]]:
    keys = footer_keys(app)
    for key in ("esc", "?", "q", "^p"):
        assert key in keys, (type(app.screen).__name__, keys)
    assert max(right for _, right in keys.values()) <= width, keys  # none cut at the edge
    return keys


async def test_the_footer_keeps_back_help_and_quit_at_80_columns(tmp_path):
    write(tmp_path / "experiments" / "game", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await home_ready(app, pilot)
        keys = footer_keys(app)
        assert {"?", "q", "^p"} <= set(keys) and max(r for _, r in keys.values()) <= 80
        screen = await run_to_end(app, pilot, "game")  # a run of this window, ended
        await pilot.pause()
        keys = assert_can_leave_and_find_help(app)
        assert "D" not in keys  # a secondary key gave way ...
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert ("D", "Diff") in app.screen.bindings  # ... and help still lists it
        # One line per key at this size (whole names, not tooltips), all of them in sight.
        assert ("p", "Compare two conditions") in app.screen.bindings
        assert not any(" — " in words for _, words in app.screen.bindings)
        listing = app.screen.query_one(Static)
        assert listing.region.bottom <= 24 and listing.region.height >= listing.virtual_size.height
        await pilot.press("escape")
        # With room, every key is back in the footer.
        await pilot.resize_terminal(200, 40)
        await until(pilot, lambda: "D" in footer_keys(app))
        keys = assert_can_leave_and_find_help(app, 200)
        assert {"f", "d", "r", "h", "D", "p", "g"} <= set(keys), keys
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: "D" not in footer_keys(app))
        await pilot.press("escape")
        await home_ready(app, pilot)
        await open_newest_stored_run(app, pilot)  # a stored run
        await pilot.pause()
        assert_can_leave_and_find_help(app)
        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
        assert_can_leave_and_find_help(app)
        await pilot.press("escape")
        await open_debug(app, pilot, "game", "gemma_prey")
        await until(pilot, lambda: not app.screen.running)
        await pilot.pause()
        assert_can_leave_and_find_help(app)
        assert screen.result is not None


async def test_progress_keeps_its_counts_in_sight_beside_the_statistics(tmp_path):
    # From 160 columns the progress pane is 60 wide, beside the statistics: a long name is
    # cut so that done, failed, of, elapsed and ETA stay in sight; with room it is whole.
    write(tmp_path / "experiments" / "game", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_to_end(app, pilot, "game")
        progress = screen.query_one("#progress", DataTable)
        await until(pilot, lambda: str(progress.get_row_at(1)[0]).endswith("…"))
        assert fits(progress)
        assert labels(progress) == ["condition", "done", "failed", "of", "elapsed", "ETA"]
        assert [str(c) for c in progress.get_row_at(1)[1:]] == ["5", "0", "5", "0:00", "✓"]
        await pilot.resize_terminal(120, 40)  # progress over the statistics, full width
        await until(pilot, lambda: str(progress.get_row_at(1)[0])
                    == "■ dolphin_spoilers_in_the_first_round")
        assert fits(progress)
