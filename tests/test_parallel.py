"""ParallelExecution: same results as serial, live events from workers, cancel, dead workers."""

import os
import threading
import time
from pathlib import Path

import pytest
from steps import chatty_step, coin_game, die_on_replicate_one, slow_step, stubborn_step

from crystallize_tui import (
    Experiment,
    Output,
    ParallelExecution,
    Plugin,
    PluginError,
    SeedPlugin,
    Treatment,
    UserEvent,
)


def build(*plugins, replicates=12):
    return Experiment(
        datasource={"p": 0.5},
        pipeline=[coin_game],
        replicates=replicates,
        plugins=[SeedPlugin(seed=7), *plugins],
        treatments=[Treatment("high", {"p": 0.8}), Treatment("swap", datasource={"p": 0.1})],
    )


@pytest.mark.parametrize(
    "parallel",
    [
        ParallelExecution(max_workers=3, kind="thread"),
        ParallelExecution(max_workers=2, kind="process"),
        ParallelExecution(max_workers=2, kind="process", start_method="spawn"),
    ],
    ids=["threads", "processes-fork", "processes-spawn"],
)
def test_parallel_results_equal_serial_results(parallel):
    serial = build().run()
    par = build(parallel).run()
    assert par.status == "completed"
    for condition in serial.conditions:
        assert par.metrics[condition].metrics == serial.metrics[condition].metrics
        assert [r.seed for r in par.metrics[condition].replicates] == [
            r.seed for r in serial.metrics[condition].replicates
        ]


def wait_for_ack(config, ctx):
    """Emits, then waits for the parent to acknowledge by creating a file: it can only
    finish with ack=1 if the event reached the parent while this step was still running."""
    ack = Path(config["folder"]) / f"ack-{ctx.replicate}"
    ctx.emit("begin", pid=os.getpid(), replicate=ctx.replicate)
    for _ in range(3000):  # up to 30 s: only reached if events do not stream
        if ack.exists():
            ctx.metrics.add("ack", 1)
            return
        time.sleep(0.01)
    ctx.metrics.add("ack", 0)


def test_events_from_worker_processes_reach_the_parent_while_the_replicate_runs(tmp_path):
    pids = []

    def on_event(event):
        if isinstance(event, UserEvent) and event.kind == "begin":
            pids.append(event.data["pid"])
            (tmp_path / f"ack-{event.data['replicate']}").touch()

    exp = Experiment(datasource={"folder": str(tmp_path)}, pipeline=[wait_for_ack], replicates=4,
                     plugins=[ParallelExecution(max_workers=2)])
    exp.subscribe(on_event)
    result = exp.run()
    assert result.metrics.baseline.metrics["ack"] == [1, 1, 1, 1]
    assert set(pids) - {os.getpid()}, "the steps ran in other processes"


def test_events_keep_their_order_per_replicate_across_processes():
    seen = []
    exp = Experiment(datasource={"events": 50}, pipeline=[chatty_step], replicates=6,
                     plugins=[ParallelExecution(max_workers=2)])
    exp.subscribe(seen.append)
    exp.run(echo=False)
    for k in range(6):
        ticks = [e.data["i"] for e in seen if isinstance(e, UserEvent) and e.replicate == k]
        assert ticks == list(range(50))
        lines = [e.text for e in seen if isinstance(e, Output) and e.replicate == k]
        assert lines == [f"start baseline {k}", f"end baseline {k}"]


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_cancel_from_another_thread_keeps_finished_replicates(kind):
    exp = Experiment(datasource={"seconds": 0.2}, pipeline=[slow_step], replicates=40,
                     plugins=[ParallelExecution(max_workers=2, kind=kind)])
    finished = []

    def on_event(event):
        if type(event).__name__ == "ReplicateFinished":
            finished.append(event)
            if len(finished) == 2:  # cancel from another thread once two are in
                threading.Thread(target=exp.cancel).start()

    exp.subscribe(on_event)
    result = exp.run()
    assert result.cancelled
    done = [r for r in result.replicate_results if r.ok]
    assert 2 <= len(done) < 40
    assert len(done) == len(finished)
    assert result.metrics.baseline.metrics["slept"].count(None) == 40 - len(done)


def test_process_workers_that_ignore_cancel_are_terminated_after_the_grace_period():
    exp = Experiment(datasource={"seconds": 60}, pipeline=[stubborn_step], replicates=4,
                     plugins=[ParallelExecution(max_workers=2, grace=0.5)])
    started = []

    def on_event(event):
        if type(event).__name__ == "UserEvent" or type(event).__name__ == "StepStarted":
            started.append(event)
            if len(started) == 2:  # both workers are inside the step: cancel now
                threading.Thread(target=exp.cancel).start()

    exp.subscribe(on_event)
    result = exp.run()
    # Had the workers not been terminated, each would have slept out its 60 s and finished.
    assert result.cancelled and result.replicate_results == []


def test_a_worker_that_dies_fails_only_its_replicate():
    exp = Experiment(pipeline=[die_on_replicate_one], replicates=5,
                     plugins=[ParallelExecution(max_workers=2)])
    result = exp.run()
    assert result.metrics.baseline.metrics["v"] == [0, None, 2, 3, 4]
    (error,) = result.errors
    assert error.replicate == 1 and "exited with code 3" in error.error


class ExplodingPlugin(Plugin):
    def before_replicate(self, ctx):
        if ctx.replicate == 2:
            raise RuntimeError("no GPU left")


@pytest.mark.parametrize("parallel", [[], [ParallelExecution(max_workers=2)]], ids=["serial", "process"])
def test_a_plugin_raising_in_a_replicate_hook_fails_the_run_naming_it(parallel):
    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=6,
                     plugins=[ExplodingPlugin(), *parallel])
    with pytest.raises(PluginError, match="plugin ExplodingPlugin failed in before_replicate: RuntimeError: no GPU left"):
        exp.run()
    assert exp.last_result.status == "failed"
