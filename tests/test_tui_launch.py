"""The launch dialog through the Pilot: enter runs from every field, messages follow the
fields they are about, chosen treatments are marked by more than colour."""

import html

import pytest
from textual.widgets import Input, Static
from tui_support import COIN, GAME, app_for, open_launch, ran_to_end, text_of, until, write

from crystallize_tui.tui.screens.dialogs import LaunchScreen


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    return tmp_path


async def test_enter_on_the_treatments_list_runs_and_space_toggles(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        treatments = dialog.query_one("#treatments")
        treatments.focus()
        await pilot.press("space")  # the first treatment (biased) is dropped
        await pilot.pause()
        assert treatments.selected == ["bigger"]
        await pilot.press("enter")
        await until(pilot, lambda: ran_to_end(app))
        assert app.screen.result.conditions == ["baseline", "bigger"]


async def test_a_chosen_treatment_shows_a_tick_and_a_dropped_one_does_not(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        treatments = dialog.query_one("#treatments")
        treatments.focus()
        await pilot.press("space")
        await pilot.pause()
        first, second = treatments.render_line(0).text, treatments.render_line(1).text
        assert "biased" in first and "✓" not in first and "X" not in first
        assert "bigger" in second and "✓" in second


async def test_a_message_goes_when_its_field_is_fixed_and_others_stay(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        replicates, seed = dialog.query_one("#replicates", Input), dialog.query_one("#seed", Input)
        replicates.value, seed.value = "0", ""
        await pilot.click("#run")
        await pilot.pause()
        message = text_of(dialog.query_one("#launch-error", Static))
        assert "replicates: enter a whole number >= 1 (got '0')" in message
        assert "seed: enter a whole number >= 0 (got nothing)" in message
        replicates.value = "3"
        await pilot.pause()
        message = text_of(dialog.query_one("#launch-error", Static))
        assert "replicates" not in message and "seed: enter a whole number" in message
        seed.value = "7"
        await pilot.pause()
        assert text_of(dialog.query_one("#launch-error", Static)).strip() == ""
        assert isinstance(app.screen, LaunchScreen)  # fixing a field does not launch


async def test_at_80x24_the_dialog_fits_and_its_message_is_in_view(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await open_launch(app, pilot, "coin")
        assert dialog.query_one(".launch").outer_size.width <= 80
        dialog.query_one("#replicates", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        shown = html.unescape(app.export_screenshot()).replace("\xa0", " ")  # only what is in view
        assert "replicates: enter a whole number" in shown
