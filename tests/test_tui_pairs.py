"""Any two conditions on the run screen: the picker, the A-vs-B panel and the way back."""

from textual.widgets import DataTable
from tui_support import (  # noqa: F401 - workspace is the fixture
    app_for,
    open_newest_stored_run,
    run_to_end,
    until,
    workspace,
)

from crystallize_tui.tui.screens.pair_view import PairPickerScreen


def offered(screen) -> dict[str, str]:
    return {key: b.binding.description for key, b in screen.active_bindings.items()}


def column(screen, key: str) -> list[str]:
    table = screen.query_one("#stats", DataTable)
    return [str(table.get_cell_at((row, table.get_column_index(key)))) for row in range(table.row_count)]


async def pick(app, pilot, screen, a: str, b: str, family: str) -> None:
    await pilot.press("p")
    await until(pilot, lambda: isinstance(app.screen, PairPickerScreen))
    dialog = app.screen
    dialog.query_one("#pair-a").value = a
    dialog.query_one("#pair-b").value = b
    dialog.query_one("#pair-family").value = family
    await pilot.click("#pair-go")


async def test_two_treatments_compare_on_a_finished_and_a_stored_run(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await run_to_end(app, pilot, "coin")
        assert offered(screen).get("p") == "Pair" and "b" not in offered(screen)
        assert "Compare two conditions" in [c.title for c in app.get_system_commands(screen)]
        await pick(app, pilot, screen, "biased", "biased", "metric")
        assert "pick two different conditions" in str(app.screen.query_one("#pair-error").content)
        app.screen.query_one("#pair-a").value = "bigger"
        await pilot.press("ctrl+r")  # a second click at once would be a double click
        await until(pilot, lambda: screen.pair_shown is not None)
        assert set(column(screen, "treatment")) == {"biased − bigger"}
        title = screen.query_one("#stats-pane").border_title
        assert "biased − bigger" in title and "nothing to correct" in title
        expected = screen.result.compare("bigger", "biased")
        shown = [line.comparison.p_adjusted for line in screen.query_one("#stats").lines]
        assert shown == [row.comparison.p_adjusted for row in expected]
        stats = screen.query_one("#stats")
        named = dict(stats.figures(stats.lines[0]))  # enter on a row: A and B by name
        assert "bigger mean (sd)" in named and "biased mean (sd)" in named
        assert offered(screen).get("b") == "vs baseline"

        await pilot.press("b")
        assert screen.pair_shown is None and "b" not in offered(screen)
        assert screen.query_one("#stats-pane").border_title == "treatment vs baseline"
        assert set(column(screen, "treatment")) == {"biased", "bigger"}

        stored = await open_newest_stored_run(app, pilot)
        await pick(app, pilot, stored, "baseline", "bigger", "table")
        await until(pilot, lambda: stored.pair_shown is not None)
        title = stored.query_one("#stats-pane").border_title
        assert "bigger − baseline" in title and "holm correction across all 2 rows" in title
        assert set(column(stored, "treatment")) == {"bigger − baseline"}  # not "vs baseline"
        expected = stored.result.compare("baseline", "bigger", family="table")
        shown = [line.comparison.p_adjusted for line in stored.query_one("#stats").lines]
        assert shown == [row.comparison.p_adjusted for row in expected]
