"""The run screen's statistics and replicate panels, driven by the Pilot on real runs at real terminal sizes."""

import asyncio
import textwrap
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_support import app_for, start_run, until

from crystallize_tui.tui.screens.home import HomeScreen

STEPS = '''
import time

def measure(config, ctx):
    time.sleep(config.get("delay", 0))
    if ctx.replicate in config.get("fail_at", []):
        raise ValueError("the instrument broke")
    for name in config.get("metrics", ["score"]):
        # The same draw in every condition (common random numbers), scaled per condition
        # so that paired differences vary.
        ctx.metrics.add(name, ctx.rng.gauss(config["mu"], 1) * (1 + abs(config["mu"])))
'''

# One replicate at a time, slow enough that live statistics refresh mid-run; replicate 3
# of "shifted" fails, which is the one pair that is really missing.
PAIRED = '''
pipeline: [steps:measure]
datasource: {mu: 0, delay: 0.12}
replicates: 10
seed: 3
treatments:
  shifted: {mu: 1, fail_at: [3]}
'''

MANY = '''
pipeline: [steps:measure]
datasource: {mu: 0}
replicates: 550
seed: 5
treatments:
  shifted: {mu: 0.1}
'''

WIDE = '''
pipeline: [steps:measure]
datasource: {mu: 0, metrics: [loss, accuracy, test_loss, latency, tokens]}
replicates: 6
seed: 9
treatments:
  strong_l2: {mu: 0.5}
  high_lr: {mu: -0.3}
'''

# The final table: the fixed-n tests, labelled so, with the anytime-valid result beside them
# (as a table with room shows it; at 80 columns p adj and anytime give way to the verdict).
ESSENTIAL = ["metric", "treatment", "difference [CI]", "p adj", "fixed-n verdict", "anytime"]


def workspace_with(root: Path, name: str, yaml: str) -> Path:
    folder = root / "experiments" / name
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(textwrap.dedent(yaml))
    (folder / "steps.py").write_text(textwrap.dedent(STEPS))
    return root


def labels(table: DataTable) -> list[str]:
    return [column.label.plain for column in table.columns.values()]


def cell(table: DataTable, row: int, label: str) -> str:
    return str(table.get_row_at(row)[labels(table).index(label)])


def width_of(table: DataTable, label_list: list[str]) -> int:
    """Columns the named columns take on screen, with their padding."""
    columns = {column.label.plain: column for column in table.columns.values()}
    return sum(columns[name].get_render_width(table) for name in label_list)


async def test_live_statistics_count_only_pairs_that_ran_in_both_conditions(tmp_path):
    root = workspace_with(tmp_path, "paired", PAIRED)
    app = app_for(root)
    seen: list[tuple[str, int]] = []  # (n cell, replicates finished in both) while running
    async with app.run_test(size=(220, 60)) as pilot:
        screen = await start_run(app, pilot, "paired")
        stats = screen.query_one("#stats", DataTable)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while screen.result is None:
            assert loop.time() < deadline, "timed out waiting for the run"
            if screen.running and stats.row_count:
                seen.append((cell(stats, 0, "n"), screen.query_one("#stats-pane").border_subtitle))
            await pilot.pause(0.05)
        final = cell(stats, 0, "n")
    live = [n for n, _ in seen]
    assert live, "live statistics never showed while the run went"
    # A pair is dropped only when a replicate really failed (shifted #3), never because
    # one side of it has not run yet.
    for n, subtitle in seen:
        pairs = int(n.split()[0])
        assert n in (f"{pairs} pairs", f"{pairs} pairs (−1)"), n
        dropped = 1 if n.endswith("(−1)") else 0
        assert f"live: {pairs + dropped} replicate(s) done in every condition" in subtitle
        assert "not a verdict yet" in subtitle  # a live p-value is not a verdict
    assert final == "9 pairs (−1)"


async def test_replicate_table_follows_new_results_and_pages_back_to_the_first(tmp_path):
    root = workspace_with(tmp_path, "many", MANY)
    app = app_for(root)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "many")
        table = screen.query_one("#replicates", DataTable)
        await until(pilot, lambda: screen.result is not None)
        await pilot.pause()
        # 1,100 finished; the view holds 1,000 and shows the newest, the cursor on it.
        assert table.row_count == 1000
        newest = table.row_count - 1
        assert table.get_row_at(newest)[:2] == ["shifted", "549"]
        assert table.cursor_row == newest
        top = round(table.scroll_y)
        assert top <= newest < top + table.scrollable_content_region.height - 1
        assert "newest of 1,100" in table.border_subtitle
        # The oldest replicates are a key away.
        table.focus()
        await pilot.press("left_square_bracket")
        assert table.get_row_at(0)[:2] == ["baseline", "0"]
        assert "rows 1–1,000 of 1,100" in table.border_subtitle
        await pilot.press("right_square_bracket")
        assert table.get_row_at(table.row_count - 1)[:2] == ["shifted", "549"]
        assert table.cursor_row == table.row_count - 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48), (220, 60)])
async def test_statistics_and_replicates_are_readable_at_each_terminal_size(tmp_path, size):
    width, _ = size
    root = workspace_with(tmp_path, "wide", WIDE)
    app = app_for(root)
    async with app.run_test(size=size) as pilot:
        screen = await start_run(app, pilot, "wide")
        await until(pilot, lambda: screen.result is not None)
        await pilot.pause()
        stats = screen.query_one("#stats", DataTable)
        replicates = screen.query_one("#replicates", DataTable)
        pane = screen.query_one("#stats-pane")
        assert stats.row_count == 10  # five metrics, two treatments
        shown = labels(stats)
        room = stats.scrollable_content_region.width
        # Everything shown fits, at 80 columns too: nothing needs scrolling sideways.
        assert width_of(stats, shown) <= room
        if width >= 120:
            assert shown[:6] == ESSENTIAL
            assert pane.region.width >= 100
        else:  # 80 columns: the panes stack, each the full width; the verdict is in sight
            assert shown[:3] == ESSENTIAL[:3] and "fixed-n verdict" in shown
            for widget in (pane, screen.query_one("#progress-pane"), screen.query_one("#output"), replicates):
                assert widget.region.width >= width - 2  # the screen scrolls: its scrollbar
            assert pane.region.y > screen.query_one("#progress-pane").region.y
        hidden = 12 - len(shown)
        assert (f"+{hidden} columns" in (pane.border_subtitle or "")) == (hidden > 0)
        if width >= 220:
            assert len(shown) >= 10
        # Every metric has its column; from 160 columns all of them are in sight.
        metrics = ["loss", "accuracy", "test_loss", "latency", "tokens"]
        assert labels(replicates)[3:] == metrics
        if width >= 160:
            assert width_of(replicates, labels(replicates)) <= replicates.scrollable_content_region.width

        # Enter on a statistics row: every figure of it.
        stats.focus()
        stats.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "FiguresScreen"
        figures = dict(app.screen.figures)
        for label in ("test", "values used", "baseline mean (sd)", "treatment mean (sd)",
                      "difference [95% CI]", "effect", "p", "p adjusted (holm)", "verdict"):
            assert figures[label] not in ("", None), label
        assert figures["values used"] == "6 pairs"
        await pilot.press("escape")
        assert app.screen is screen

        # Enter on a replicate row (brought into view on a stacked screen): its seed and metrics.
        replicates.focus()
        await pilot.pause()
        assert replicates.region.y < size[1]
        replicates.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "FiguresScreen"
        figures = dict(app.screen.figures)
        first = screen.result.replicate(figures["condition"], int(figures["replicate"]))
        assert figures["seed"] == str(first.seed)
        assert [name for name in figures if name in metrics] == metrics


STEADY = '''
pipeline: [steps:measure]
datasource: {mu: 0, delay: 0.03}
replicates: 100
seed: 5
treatments:
  shifted: {mu: 0.1}
'''


async def test_replicate_table_leaves_a_reader_on_their_row_and_ctrl_end_follows_again(tmp_path):
    root = workspace_with(tmp_path, "steady", STEADY)
    app = app_for(root)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await start_run(app, pilot, "steady")
        table = screen.query_one("#replicates", DataTable)
        await until(pilot, lambda: table.row_count >= 6)
        table.focus()
        table.move_cursor(row=1)
        await pilot.pause()
        reading = table.get_row_at(1)[:2]
        shown = table.row_count
        await until(pilot, lambda: table.row_count >= shown + 4)
        assert table.cursor_row == 1 and table.get_row_at(1)[:2] == reading
        await pilot.press("ctrl+end")  # back to the newest: the view follows again
        shown = table.row_count
        await until(pilot, lambda: table.row_count > shown and table.cursor_row == table.row_count - 1)
        assert screen.running
        table.move_cursor(row=0)
        await pilot.pause()
        reading = table.get_row_at(0)[:2]
        await until(pilot, lambda: screen.result is not None)
        await pilot.pause()
        assert table.row_count == 200
        assert table.get_row_at(table.cursor_row)[:2] == reading  # the end of the run kept it


async def test_compare_runs_shows_difference_p_and_verdict_at_80_columns(tmp_path):
    root = workspace_with(tmp_path, "wide", WIDE)
    app = app_for(root)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(2):
            run = await start_run(app, pilot, "wide")
            await until(pilot, lambda run=run: run.result is not None)
            await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("h")
        await until(pilot, lambda: type(app.screen).__name__ == "HistoryScreen")
        app.screen.query_one("#runs", DataTable).focus()
        await pilot.press("space", "down", "c")
        await until(pilot, lambda: type(app.screen).__name__ == "CompareRunsScreen")
        await pilot.pause()
        table = app.screen.query_one("#compare", DataTable)
        assert table.row_count == 15  # three conditions, five metrics
        shown = labels(table)
        assert shown[:5] == ["condition", "metric", "difference [CI]", "p", "verdict"]
        assert width_of(table, shown) <= table.scrollable_content_region.width
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "FiguresScreen"
        figures = dict(app.screen.figures)
        assert figures["values used"] == "6 pairs"  # same seed: replicate k against replicate k
        assert "run A mean (sd)" in figures and "run B mean (sd)" in figures


async def test_a_long_fast_run_trims_the_replicate_view_in_rebuilds_and_ends_on_the_newest():
    """Past MAX_ROWS the view is trimmed by one rebuild per TRIM_SLACK rows (a DataTable
    removes a row in time proportional to its rows): it never holds more than the slack
    over, a reader's cursor stays on the row they read, and the end shows the newest
    MAX_ROWS with every replicate reachable."""
    from textual.app import App

    from crystallize_tui.core import events as ev
    from crystallize_tui.tui.widgets.tables import MAX_ROWS, TRIM_SLACK, ReplicateTable

    class Host(App):
        def compose(self):
            yield ReplicateTable(id="replicates")

    def finished(k: int) -> ev.ReplicateFinished:
        return ev.ReplicateFinished("run", "baseline", k, 0.0, k, 0.001, {"score": float(k)})

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(ReplicateTable)
        most = 0
        for start in range(0, 1600, 40):
            table.add_replicates([finished(k) for k in range(start, start + 40)], throttle=True)
            await pilot.pause()
            most = max(most, table.row_count)
            if start == 1200:  # a reader moves up a few rows while the run goes on
                table.move_cursor(row=table.row_count - 5, animate=False)
                reading = table.get_row_at(table.cursor_row)[1]
        assert MAX_ROWS < most <= MAX_ROWS + TRIM_SLACK + 40
        assert table.get_row_at(table.cursor_row)[1] == reading  # not dragged to the newest
        table.move_cursor(row=table.row_count - 1, animate=False)
        table.catch_up()  # the run's end
        await pilot.pause()
        assert table.row_count == MAX_ROWS
        assert [table.get_row_at(i)[1] for i in (0, MAX_ROWS - 1)] == ["600", "1599"]
        assert table.cursor_row == MAX_ROWS - 1
        assert "newest of 1,600" in table.border_subtitle
