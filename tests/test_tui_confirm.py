"""Confirm on fresh seeds from the home screen: the dialog, the run process, the report."""

from textual.widgets import Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    app_for,
    on_home,
    ran_to_end,
    run_to_end,
    stored,
    until,
    words_of,
    workspace,
)

from crystallize_tui.tui.screens.confirming import ConfirmRunScreen
from crystallize_tui.tui.screens.history import HistoryScreen
from crystallize_tui.tui.screens.home import HomeScreen
from crystallize_tui.tui.screens.run import RunScreen


def palette(app, screen) -> list[str]:
    return [command.title for command in app.get_system_commands(screen)]


async def test_confirm_from_home_runs_fresh_seeds_in_a_run_process_and_reports(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await run_to_end(app, pilot, "coin")  # an exploratory run first: its seeds are used
        await pilot.press("escape")
        home = await on_home(app, pilot, "coin")
        assert "Confirm on fresh seeds" in palette(app, home)
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ConfirmRunScreen))
        dialog = app.screen
        await until(pilot, lambda: "of base seed 1" in words_of(dialog.query_one("#stream", Static)))
        said = words_of(dialog.query_one("#locked", Static)) + words_of(dialog.query_one("#stream", Static))
        assert "win greater than baseline in every treatment" in said
        assert "conditions: baseline, biased, bigger" in said
        assert "seed stream: 1 of base seed 1" in said and "1 earlier run(s)" in said
        dialog.query_one("#confirm-replicates").value = "0"
        await pilot.press("enter")
        assert "whole number from 1" in words_of(dialog.query_one("#confirm-error", Static))
        dialog.query_one("#confirm-replicates").value = "3"
        await pilot.press("enter")
        await until(pilot, lambda: ran_to_end(app))
        screen = app.screen
        assert "confirmatory" in screen.title and screen.process is not None  # its own process
        await until(pilot, lambda: screen.confirmation_lines)
        report = words_of(screen.query_one("#verdicts", Static))
        assert "confirmatory run: fresh seeds (seed stream 1" in report
        assert "unchanged since the lock" in report
        assert "confirmed" in report and "hypothesis:" in report

        await pilot.press("h")  # history marks it
        assert isinstance(app.screen, HistoryScreen)
        await pilot.pause()
    runs = stored(workspace, "SELECT run_id, kind, seed_stream, replicates FROM runs ORDER BY started_at")
    assert [(r[1], r[2], r[3]) for r in runs] == [("exploratory", 0, 4), ("confirmatory", 1, 3)]
    seeds = {run: {s for (s,) in stored(workspace, f"SELECT seed FROM replicates WHERE run_id = '{run}'")}
             for run, *_ in runs}
    first, second = seeds.values()
    assert first and second and first.isdisjoint(second)


async def test_confirm_without_hypotheses_says_why_and_opens_nothing(workspace):  # noqa: F811
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "slow")
        await pilot.press("C")
        await until(pilot, lambda: any("declares no hypotheses" in n.message
                                       for n in app._notifications))
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert not any(isinstance(s, (ConfirmRunScreen, RunScreen)) for s in app.screen_stack)
