"""Chained experiments through the real command and the TUI: the example pair chain_data ->
chain_summary, --with-upstream, and the chain in history and show."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from cli_support import cli, on_a_terminal
from textual.widgets import DataTable, Static
from tui_support import app_for, on_home, text_of, until

from crystallize_tui import Store
from crystallize_tui.core.folders import load_experiment
from crystallize_tui.tui.screens.history import HistoryScreen

EXAMPLES = Path(__file__).resolve().parent.parent / "experiments"


def chain_workspace(root: Path, delay: float = 0.0) -> Path:
    for name in ("chain_data", "chain_summary"):
        shutil.copytree(EXAMPLES / name, root / "experiments" / name,
                        ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    if delay:  # a producer slow enough to cancel while it runs
        step = root / "experiments" / "chain_data" / "sample.py"
        step.write_text(step.read_text().replace(
            "def draw(config, ctx):\n", f"def draw(config, ctx):\n    __import__('time').sleep({delay})\n"))
    return root


def test_a_detached_chain_names_its_producer_run_and_cancelling_that_stops_the_chain(tmp_path):
    root = chain_workspace(tmp_path, delay=0.5)
    started = cli(root, "run", "chain_summary", "--with-upstream", "--detach")
    assert started.returncode == 0, started.stderr
    consumer_id = started.stdout.strip()
    store = Store(root / ".crystallize" / "crystallize.db")
    [producer] = store.runs("chain_data")  # recorded: the command returned without waiting for it
    assert producer.status == "running"
    assert (f"upstream chain_data runs first as run {producer.run_id} in process "
            f"{store.run_row(producer.run_id)['pid']}") in started.stderr
    assert f"then chain_summary as run {consumer_id}" in started.stderr
    # Not yet recorded: no hint to attach to the consumer's run now (it would say "no run").
    assert f"crystallize attach {consumer_id}" not in started.stderr
    cancelled = cli(root, "cancel", producer.run_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert store.runs("chain_data")[0].status == "cancelled"
    log = (root / ".crystallize" / "logs" / f"{consumer_id}.log")
    deadline = time.monotonic() + 30
    while "not running chain_summary" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)  # the chain's process says why it stops, then exits
    assert "not running chain_summary" in log.read_text()
    assert store.runs("chain_summary") == []  # the consumer never started


def test_with_upstream_runs_stale_producers_first_and_history_shows_the_chain(tmp_path):
    root = chain_workspace(tmp_path)
    alone = cli(root, "run", "chain_summary")
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines() == [
        "crystallize: error: experiment 'chain_summary' reads from 'chain_data': 'chain_data' has no "
        f"run in {root / '.crystallize' / 'crystallize.db'}; run it first (crystallize run chain_data, "
        "or add --with-upstream)"]
    first = cli(root, "run", "chain_summary", "--with-upstream")
    assert first.returncode == 0, first.stderr
    assert "upstream chain_data: no completed run; running it first" in first.stderr
    assert "spread greater in wide: supported" in first.stdout
    yaml_path = root / "experiments" / "chain_data" / "experiment.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("size: 20", "size: 30"))
    second = cli(root, "run", "chain_summary", "--with-upstream")
    assert second.returncode == 0, second.stderr
    assert "upstream chain_data: changed since its latest completed run" in second.stderr
    newest_producer, older_producer = (r.run_id for r in Store(root / ".crystallize" / "crystallize.db")
                                       .runs("chain_data"))
    history = cli(root, "history", "chain_summary").stdout.splitlines()
    assert history[0].split()[-2:] == ["verdict", "consumed"]  # the TUI History's verdict
    assert history[1].endswith(f"supported: spread  chain_data {newest_producer}")
    assert history[2].endswith(f"supported: spread  chain_data {older_producer} (producer changed since)")
    narrow = on_a_terminal(root, "history", "chain_summary", columns=80).splitlines()
    assert max(map(len, narrow)) <= 80  # nothing cut or wrapped by the terminal
    assert narrow[1].split() == ["run", "id", "started", "status", "ok/of", "verdict"]
    assert narrow[2].split()[3:] == ["completed", "10/10", "supported:", "spread"]
    assert narrow[3] == f"  ↳ consumed chain_data {newest_producer}"
    oldest = history[2].split()[0]
    shown = cli(root, "show", oldest).stdout
    assert (f"consumed chain_data run {older_producer} (artifact data.csv); producer changed since: "
            f"newer run {newest_producer}") in shown
    yaml_path.write_text(yaml_path.read_text().replace("size: 30", "size: 40"))  # edited, not run
    shown = cli(root, "show", history[1].split()[0]).stdout
    assert (f"consumed chain_data run {newest_producer} (artifact data.csv); producer changed since: "
            "its configs, code or seed differ now (not run yet)") in shown


def test_a_producer_that_does_not_exist_is_named_with_the_file_key_and_the_names_there(tmp_path):
    root = chain_workspace(tmp_path)
    yaml_path = root / "experiments" / "chain_summary" / "experiment.yaml"
    text = yaml_path.read_text()
    yaml_path.write_text(text.replace("from: chain_data", "from: chain_dta"))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "from: chain_data" in row)
    expected = (f"crystallize: error: experiments/chain_summary/experiment.yaml:{line}: datasource.from: "
                f"no experiment named 'chain_dta' in {root} (experiments: chain_data, chain_summary; "
                "did you mean 'chain_data'?)")
    for extra in ((), ("--with-upstream",)):  # never "run it first": there is nothing to run
        out = cli(root, "run", "chain_summary", *extra)
        assert out.returncode == 2
        assert out.stderr.strip().splitlines() == [expected]


async def test_the_tui_shows_what_a_chained_experiment_reads_and_which_run_each_run_consumed(tmp_path):
    root = chain_workspace(tmp_path)
    store = root / ".crystallize" / "crystallize.db"
    made = load_experiment(root / "experiments" / "chain_data")
    made.store = store
    produced = made.run(echo=False)
    reader = load_experiment(root / "experiments" / "chain_summary")
    reader.store = store
    reader.run(echo=False)
    app = app_for(root)
    async with app.run_test(size=(200, 40)) as pilot:
        home = await on_home(app, pilot, "chain_summary")
        await until(pilot, lambda: "reads chain_data's latest completed run, artifact data.csv"
                    in text_of(home.query_one("#details", Static)))
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count == 1
        assert str(runs.get_row_at(0)[-1]) == f"chain_data {produced.run_id}"
        assert [str(c.label) for c in runs.columns.values()][-1] == "consumed"
