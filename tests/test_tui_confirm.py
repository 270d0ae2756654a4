"""Confirm on fresh seeds from the home screen: the dialog, the run process, the report."""

from textual.widgets import DataTable, Static
from tui_support import (  # noqa: F401 - workspace is the fixture
    app_for,
    on_home,
    open_newest_stored_run,
    ran_to_end,
    run_to_end,
    stored,
    until,
    words_of,
    workspace,
)

from crystallize_tui.tui.screens.confirming import ConfirmRunScreen
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

        # The config changes afterwards: the stored run (opened from History) says what.
        yaml = workspace / "experiments" / "coin" / "experiment.yaml"
        yaml.write_text(yaml.read_text().replace("biased: {p: 0.8}", "biased: {p: 0.85}"))
        before = app.discovery
        app.load_experiments()  # what the file watcher does when a file changes
        await until(pilot, lambda: app.discovery is not before)
        await pilot.press("h")  # History marks it
        runs_table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: runs_table.row_count == 2)
        assert "confirmatory" in str(runs_table.get_row_at(0)) and "confirmatory" not in str(runs_table.get_row_at(1))
        await pilot.press("escape")
        shown = await open_newest_stored_run(app, pilot)
        await until(pilot, lambda: shown.confirmation_lines)
        report = words_of(shown.query_one("#verdicts", Static))
        assert "CHANGED since the lock" in report and "config of 'biased' changed: p: 0.8 -> 0.85" in report
        assert "confirmatory" in shown.title
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
