"""A consumer whose producer is stale: the run screen offers to run the producer first; one
process runs the chain (``run --with-upstream``): the producer's run shows on a run screen of
its own (titled as upstream of the consumer, its output and progress live), then the
consumer's run on its screen. Cancelling the producer stops the chain, and r there resumes
it; quitting the app ("leave running") leaves the whole chain going."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui_support import app_for, on_home, stored, until

from crystallize_tui import Store
from crystallize_tui.tui.screens.dialogs import ConfirmScreen, QuitScreen
from crystallize_tui.tui.screens.run import RunScreen
from crystallize_tui.tui.widgets.output import OutputLog

REPO = Path(__file__).resolve().parent.parent


def chain_workspace(root: Path, delay: float = 0.0) -> None:
    for name in ("chain_data", "chain_summary"):
        shutil.copytree(REPO / "experiments" / name, root / "experiments" / name,
                        ignore=shutil.ignore_patterns("artifacts", "__pycache__", ".crystallize"))
    if delay:  # a producer slow enough to cancel while it runs
        step = root / "experiments" / "chain_data" / "sample.py"
        step.write_text(step.read_text().replace(
            "def draw(config, ctx):\n", f"def draw(config, ctx):\n    __import__('time').sleep({delay})\n"))


def output_of(screen: RunScreen) -> str:
    return "\n".join(screen.query_one("#output", OutputLog).lines)


async def offer_accepted(app, pilot) -> RunScreen:
    """r on chain_summary, y to the offer: the consumer's run screen."""
    await on_home(app, pilot, "chain_summary")
    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # over the run screen
    consumer = app.screen_stack[-2]
    assert isinstance(consumer, RunScreen) and consumer.experiment.name == "chain_summary"
    assert app.screen.question == "chain_data has no completed run: run it first?"
    await pilot.press("y")
    return consumer


async def test_the_producer_runs_on_its_own_screen_then_the_consumer_on_its_own(tmp_path):
    chain_workspace(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        shown: list = []  # each screen put in front, in order (the producer's is brief)
        app.screen_change_signal.subscribe(app, shown.append, immediate=True)
        consumer = await offer_accepted(app, pilot)
        await until(pilot, lambda: app.screen is consumer and consumer.result is not None,
                    timeout=120)
        producers = [s for s in shown if isinstance(s, RunScreen) and s is not consumer]
        assert len(producers) == 1 and producers[0].upstream_for is consumer
        assert producers[0].title == "chain_data · upstream of chain_summary"
        assert consumer.title == "chain_summary"
        producer = producers[0]
        # Its screen shows the end the consumer's heard of first (each screen at its own pace).
        await until(pilot, lambda: producer.result is not None)
        assert producer.result.status == "completed"
        assert "[baseline #0] saved 20 values (spread 1.0) as data.csv" in output_of(producer)
        assert "[wide #4] saved 20 values (spread 3.0) as data.csv" in output_of(producer)
        assert producer.query_one("#progress").finished_count == 10
        assert consumer.result.status == "completed" and not consumer.result.errors
        assert str(consumer.query_one("#run-status").content).endswith(
            f"· after upstream chain_data run {producer.result.run_id}")
        runs = stored(tmp_path, "SELECT experiment, status FROM runs ORDER BY started_at")
        assert runs == [("chain_data", "completed"), ("chain_summary", "completed")]

        # The producer changed since: asked again, naming its run; "no" runs the consumer alone.
        data_run = producer.result.run_id
        yaml_file = tmp_path / "experiments" / "chain_data" / "experiment.yaml"
        yaml_file.write_text(yaml_file.read_text().replace("size: 20", "size: 21"))
        consumer.result = None
        await pilot.press("r")  # run again, on this screen
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.question == (
            f"chain_data changed since its latest completed run {data_run}: run it first?")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is consumer and consumer.result is not None,
                    timeout=120)
    runs = stored(tmp_path, "SELECT experiment, status FROM runs ORDER BY started_at")
    assert runs == [("chain_data", "completed"), ("chain_summary", "completed"),
                    ("chain_summary", "completed")]


async def test_cancelling_the_producer_stops_the_chain_and_says_so(tmp_path):
    chain_workspace(tmp_path, delay=0.3)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        consumer, producer = await producer_running(app, pilot)
        await pilot.press("c")  # on the producer's screen
        await until(pilot, lambda: consumer.ended and producer.result is not None)
        assert producer.result.status == "cancelled"
        said = str(consumer.query_one("#run-status").content)
        assert said == (f"upstream chain_data run {producer.result.run_id} was cancelled: "
                        "chain_summary did not start")
        assert str(producer.query_one("#run-status").content).endswith("· chain_summary did not start")
        assert not consumer.running
        assert consumer.process.wait(30) is not None  # the chain's process ended, not the consumer
        runs = stored(tmp_path, "SELECT experiment, status FROM runs")
        assert runs == [("chain_data", "cancelled")]

        # r on the producer's screen resumes the chain: that run goes on, then the consumer.
        cancelled = producer.result.run_id
        assert app.screen is producer and producer.check_action("resume", ())
        await pilot.press("r")
        await until(pilot, lambda: consumer.result is not None and producer.result is not None,
                    timeout=120)
        assert (producer.result.run_id, producer.result.status) == (cancelled, "completed")
        assert consumer.result.status == "completed"
        assert str(consumer.query_one("#run-status").content).endswith(
            f"· after upstream chain_data run {cancelled}")
    runs = stored(tmp_path, "SELECT experiment, status FROM runs ORDER BY started_at")
    assert runs == [("chain_data", "completed"), ("chain_summary", "completed")]


async def producer_running(app, pilot) -> tuple[RunScreen, RunScreen]:
    """The offer accepted and the (slow) producer's first replicate shown on its screen:
    the consumer's screen and the producer's."""
    consumer = await offer_accepted(app, pilot)
    producer = await producer_shown(app, pilot, consumer)
    await until(pilot, lambda: "saved 20 values" in output_of(producer))
    return consumer, producer


async def producer_shown(app, pilot, consumer: RunScreen) -> RunScreen:
    """The producer's run screen, in front and composed."""
    await until(pilot, lambda: consumer.waiting_on is not None and app.screen is consumer.waiting_on
                and bool(app.screen.query("#output")))
    return app.screen


async def test_quitting_while_the_producer_runs_leaves_the_chain_going(tmp_path):
    chain_workspace(tmp_path, delay=0.3)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        consumer, producer = await producer_running(app, pilot)
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        assert app.screen.names == "chain_data, then chain_summary"  # the consumer waits for it
        await pilot.press("l")  # leave running
        await until(pilot, lambda: not app.is_running)
    process = consumer.process
    assert process.alive and consumer.result is None  # the producer still runs, with no window
    store = Store(tmp_path / ".crystallize" / "crystallize.db")
    [running] = store.runs("chain_data")
    assert running.status == "running" and store.runs("chain_summary") == []
    assert store.run_row(running.run_id)["pid"] == process.pid  # the chain's process (ps lists it)
    assert process.wait(120) == 0
    [made] = store.runs("chain_data")
    [summary] = store.runs("chain_summary")  # the consumer started after it, with no window
    assert (made.status, summary.status) == ("completed", "completed")
    assert summary.run_id == process.run_id and summary.started_at >= made.finished_at
    assert [(item["experiment"], item["run_id"]) for item in store.lineage(summary.run_id)] == [
        ("chain_data", made.run_id)]
