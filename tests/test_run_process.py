"""A run in its own process launched by a window (core/run_process.py): its events, its
Result, its death in words, cancel of a hung step, detach; real run processes."""

import sys
import time

import pytest
from cli_support import crashing_experiment

from crystallize_tui.commands.common import Workspace
from crystallize_tui.core import events as ev
from crystallize_tui.core.run_process import RunDied, RunEnded, RunErrored, RunProcess, RunRefused

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX sessions and signals")

@pytest.fixture
def ws(tmp_path):
    crashing_experiment(tmp_path / "experiments" / "game", tmp_path / "marker")
    return Workspace(root=tmp_path, store_path=tmp_path / ".crystallize" / "crystallize.db")


def launch(ws, **options):
    return RunProcess.launch(ws.root, ws.store, "game", options)


def scores(result):
    return {(r.treatment, r.replicate): dict(r.metrics)["score"] for r in result.replicate_results}


def test_events_then_the_result_arrive_and_match_an_in_process_run(ws):
    process = launch(ws, replicates=4, seed=11, treatments=["better"], overrides={"p": 0.25})
    messages = list(process.messages())
    assert isinstance(messages[0], ev.RunStarted) and messages[0].run_id == process.run_id
    finished = [m for m in messages if isinstance(m, ev.ReplicateFinished)]
    assert len(finished) == 8
    assert any(isinstance(m, ev.UserEvent) or "playing" in str(m) for m in messages)
    end = messages[-1]
    assert isinstance(end, RunEnded) and end.result.status == "completed"
    assert process.exit_code == 0
    experiment = ws.experiment("game")
    experiment.store = None
    here = experiment.run(replicates=4, seed=11, treatments=["better"], overrides={"p": 0.25},
                          echo=False)
    assert scores(end.result) == scores(here)
    assert min(scores(here).values()) >= 0.25  # the override's exact value reached the step


def test_a_segfault_is_told_with_its_replicate_and_a_resume_finishes_the_run(ws, tmp_path):
    (tmp_path / "marker").write_text("segfault")
    process = launch(ws, workers=1)
    messages = list(process.messages())
    died = messages[-1]
    assert isinstance(died, RunDied)
    assert died.how == "killed by SIGSEGV (signal 11)"
    assert died.running == [("baseline", 2)]
    # faulthandler's traceback in the log names the user's line (cli_support's CRASHING_STEP)
    assert died.describe() == ("run process killed by SIGSEGV (signal 11) while running "
                               "baseline replicate 2 (at game.py:12 in play)")
    tail = "\n".join(died.log_tail)
    assert "Segmentation fault" in tail and "game.py" in tail  # faulthandler's traceback
    # Replicates 0 and 1 of both conditions had finished (conditions run in rounds); fast
    # ones may still wait for their group commit when the process dies: never announced, so
    # never counted, and every one that was announced is in the store.
    kept = len(ws.store.replicates(process.run_id))
    assert died.finished <= kept <= 4
    assert ws.store.live_status(process.run_id)[0] == "interrupted"

    (tmp_path / "marker").unlink()
    resumed = launch(ws, resume=True)
    assert resumed.run_id == process.run_id
    end = list(resumed.messages())[-1]
    assert isinstance(end, RunEnded) and end.result.status == "completed"
    fresh = list(launch(ws).messages())[-1]
    assert scores(end.result) == scores(fresh.result)
    assert len(scores(end.result)) == 10


def test_os_exit_in_a_step_reads_as_an_exit_code(ws, tmp_path):
    (tmp_path / "marker").write_text("exit")
    died = list(launch(ws).messages())[-1]
    assert isinstance(died, RunDied) and died.how == "exited with code 3"
    assert died.running == [("baseline", 2)]


def test_a_detached_run_completes_alone(ws):
    process = launch(ws, replicates=40)
    first = next(process.messages())
    assert isinstance(first, ev.RunStarted)
    process.detach()
    assert list(process.messages()) == []  # the reader has stopped
    assert process.wait(60) == 0
    assert ws.store.live_status(process.run_id)[0] == "completed"
    assert len(ws.store.replicates(process.run_id)) == 80


def test_cancel_of_a_hung_step_terminates_the_process_after_the_grace(ws, tmp_path):
    (tmp_path / "marker").write_text("hang")
    process = launch(ws)
    seen = []
    for message in process.messages():
        seen.append(message)
        if isinstance(message, ev.ReplicateStarted) and (message.treatment, message.replicate) == (
                "baseline", 2):
            began = time.monotonic()
            process.cancel(grace=1.0)
    died = seen[-1]
    assert isinstance(died, RunDied) and died.terminated
    assert time.monotonic() - began >= 1.0
    assert died.running == [("baseline", 2)]
    assert died.describe().startswith("run process did not stop within")
    assert ws.store.live_status(process.run_id)[0] == "interrupted"


def test_a_cancel_obeyed_ends_with_a_cancelled_result(ws):
    process = launch(ws, replicates=2000)
    for message in process.messages():
        if isinstance(message, ev.ReplicateFinished):
            process.cancel()
            break
    rest = list(process.messages())
    assert isinstance(rest[-1], RunEnded) and rest[-1].result.status == "cancelled"
    assert not process.terminated


def test_a_refused_resume_and_an_unknown_treatment_come_back_as_messages(ws, tmp_path):
    (tmp_path / "marker").write_text("exit")
    list(launch(ws).messages())
    yaml = tmp_path / "experiments" / "game" / "experiment.yaml"
    yaml.write_text(yaml.read_text().replace("p: 0.5", "p: 0.6"))
    refused = list(launch(ws, resume=True).messages())[-1]
    assert isinstance(refused, RunRefused) and "better" in " ".join(refused.changes)
    assert refused.error().run_id == refused.run_id
    errored = list(launch(ws, treatments=["nope"]).messages())[-1]
    assert isinstance(errored, RunErrored) and "nope" in errored.error


def test_override_values_reach_the_run_process_as_the_window_parsed_them(ws, tmp_path):
    """The launch dialog parses `when=2024-01-01 grid=[1, [2, 3]]` as YAML: a date and a nested
    list. The run process must get those values, not their JSON-mangled or re-quoted forms."""
    import datetime

    from cli_support import write_experiment

    write_experiment(tmp_path, "types", "pipeline: [steps:look]\nreplicates: 1\n"
                     "datasource: {when: 2000-01-01, grid: []}\n", {"steps.py": (
                         "def look(config, ctx):\n"
                         "    ctx.metrics.add('is_date', type(config['when']).__name__ == 'date')\n"
                         "    ctx.metrics.add('year', config['when'].year)\n"
                         "    ctx.metrics.add('inner', config['grid'][1][1])\n")})
    overrides = {"when": datetime.date(2024, 1, 1), "grid": [1, [2, 3]]}
    process = RunProcess.launch(ws.root, ws.store, "types", {"overrides": overrides})
    end = list(process.messages())[-1]
    assert isinstance(end, RunEnded), end
    (only,) = end.result.replicate_results
    assert dict(only.metrics) == {"is_date": True, "year": 2024, "inner": 3}
