"""The experiments screen through the Pilot: the selection survives an experiment breaking
and being fixed, and "last run" follows runs made from the command line."""

import asyncio
import html
import os
import sys

import pytest
from textual.widgets import Tree
from tui_support import COIN, GAME, app_for, on_home, until, write


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path / "experiments" / "alpha", {"experiment.yaml": COIN, "game.py": GAME})
    write(tmp_path / "experiments" / "coin", {"experiment.yaml": COIN, "game.py": GAME})
    write(tmp_path / "experiments" / "zeta", {"experiment.yaml": COIN, "game.py": GAME})
    return tmp_path


def cursor_path(home):
    node = home.query_one("#experiments", Tree).cursor_node
    return node.data[1].path if node is not None and node.data else None


async def test_the_selection_stays_when_the_selected_experiment_breaks_and_is_fixed(workspace):
    yaml = workspace / "experiments" / "coin" / "experiment.yaml"
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "coin")
        yaml.write_text("pipline: [game:play]\n")  # a typo: coin no longer loads
        await until(pilot, lambda: home.discovery.errors)
        await pilot.pause()
        await pilot.pause()
        assert home.selected_key() == ("error", str(yaml.resolve()))
        assert cursor_path(home) == yaml.resolve()
        yaml.write_text(COIN)
        await until(pilot, lambda: not home.discovery.errors)
        await pilot.pause()
        await pilot.pause()
        assert home.selected_key() == ("experiment", "coin")


async def test_last_run_follows_a_run_made_from_the_command_line(workspace):
    app = app_for(workspace, watch=True)
    async with app.run_test(size=(160, 48)) as pilot:
        home = await on_home(app, pilot, "coin")

        def label() -> str:
            node = home.query_one("#experiments", Tree).cursor_node
            return str(node.label)

        assert "never run" in label()
        await pilot.pause(1.5)  # the screen has looked at the store once
        env = {k: v for k, v in os.environ.items() if k != "CRYSTALLIZE_HOME"}
        cli = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crystallize_tui.cli", "run", "coin", cwd=workspace, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await cli.communicate()
        assert cli.returncode == 0, err.decode()
        await until(pilot, lambda: "completed" in label())
        assert home.selected_key() == ("experiment", "coin")


async def test_at_80x24_the_list_and_the_details_stack_each_the_full_width(workspace):
    app = app_for(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        home = await on_home(app, pilot, "coin")
        experiments, details = home.query_one("#experiments"), home.query_one("#details-pane")
        assert experiments.region.width >= 78 and details.region.width >= 78
        assert details.region.y >= experiments.region.bottom  # below the list
        shown = html.unescape(app.export_screenshot()).replace("\xa0", " ")  # what is in view
        assert shown.count("never run") == 4  # each experiment's status, and the selected one's
        assert "a biased coin game" in shown and "baseline config" in shown
