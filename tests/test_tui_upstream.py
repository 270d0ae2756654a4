"""A consumer whose producer is stale: the run screen offers to run the producer first (as a
run process), says which it is running, then runs the consumer."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui_support import app_for, on_home, ran_to_end, stored, until

from crystallize_tui.tui.screens.dialogs import ConfirmScreen
from crystallize_tui.tui.screens.run import RunScreen

REPO = Path(__file__).resolve().parent.parent


def chain_workspace(root: Path) -> None:
    for name in ("chain_data", "chain_summary"):
        shutil.copytree(REPO / "experiments" / name, root / "experiments" / name,
                        ignore=shutil.ignore_patterns("artifacts", "__pycache__", ".crystallize"))


async def test_a_stale_producer_is_offered_then_run_first_and_the_screen_says_so(tmp_path):
    chain_workspace(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_home(app, pilot, "chain_summary")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # over the run screen
        screen = app.screen_stack[-2]
        assert isinstance(screen, RunScreen)
        assert app.screen.question == "chain_data has no completed run: run it first?"
        said: list[str] = []  # what the status line said, as it changed
        shown = screen._set_status
        screen._set_status = lambda text, style="": (said.append(text), shown(text, style))
        await pilot.press("y")
        await until(pilot, lambda: ran_to_end(app), timeout=120)
        assert screen.result.status == "completed" and not screen.result.errors
        assert any(line.startswith("running upstream chain_data · ") and line.endswith(
            " replicates · then chain_summary") for line in said), said
        assert "running upstream chain_data · 10 of 10 replicates · then chain_summary" in said
        runs = stored(tmp_path, "SELECT experiment, status FROM runs ORDER BY started_at")
        assert runs == [("chain_data", "completed"), ("chain_summary", "completed")]

        # The producer changed since: asked again, naming its run; "no" runs the consumer alone.
        data_run = stored(tmp_path, "SELECT run_id FROM runs WHERE experiment = 'chain_data'")[0][0]
        yaml_file = tmp_path / "experiments" / "chain_data" / "experiment.yaml"
        yaml_file.write_text(yaml_file.read_text().replace("size: 20", "size: 21"))
        screen.result = None
        await pilot.press("r")  # run again, on this screen
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.question == (
            f"chain_data changed since its latest completed run {data_run}: run it first?")
        await pilot.press("n")
        await until(pilot, lambda: ran_to_end(app), timeout=120)
    runs = stored(tmp_path, "SELECT experiment, status FROM runs ORDER BY started_at")
    assert runs == [("chain_data", "completed"), ("chain_summary", "completed"),
                    ("chain_summary", "completed")]
