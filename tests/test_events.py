"""Live visibility: ctx.emit, print capture (also under threads), subscribers, stream()."""

import pickle
import threading

import pytest
from steps import chatty_step, coin_game, slow_step

from crystallize_tui import (
    Experiment,
    MetricRecorded,
    Output,
    ParallelExecution,
    Plugin,
    ReplicateFinished,
    ReplicateStarted,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    Treatment,
    UserEvent,
)


def test_event_sequence_of_one_replicate():
    events = []
    exp = Experiment(datasource={"events": 2}, pipeline=[chatty_step])
    exp.subscribe(events.append)
    exp.run(echo=False)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "RunStarted", "ReplicateStarted", "StepStarted", "Output", "UserEvent", "UserEvent",
        "MetricRecorded", "Output", "StepFinished", "ReplicateFinished", "RunFinished",
    ]
    run_id = events[0].run_id
    assert all(e.run_id == run_id for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    outputs = [e for e in events if isinstance(e, Output)]
    assert [(o.stream, o.text) for o in outputs] == [("stdout", "start baseline 0"),
                                                     ("stdout", "end baseline 0")]
    ticks = [e for e in events if isinstance(e, UserEvent)]
    assert [(t.kind, t.data, t.treatment, t.replicate) for t in ticks] == [
        ("tick", {"i": 0}, "baseline", 0), ("tick", {"i": 1}, "baseline", 0)
    ]
    for e in events:  # every event pickles (it must cross process boundaries)
        assert pickle.loads(pickle.dumps(e)) == e


def test_print_still_reaches_the_terminal_unless_echo_is_off(capsys):
    exp = Experiment(datasource={"events": 0}, pipeline=[chatty_step])
    exp.subscribe(lambda e: None)
    exp.run()
    assert "start baseline 0" in capsys.readouterr().out
    exp.run(echo=False)
    assert capsys.readouterr().out == ""


def test_emitted_events_arrive_while_the_step_is_still_running():
    arrived_during_step = threading.Event()
    step_may_finish = threading.Event()

    def step(config, ctx):
        ctx.emit("progress", pct=50)
        step_may_finish.wait(5)
        ctx.metrics.add("ok", 1)

    def on_event(event):
        if isinstance(event, UserEvent):
            arrived_during_step.set()
            step_may_finish.set()

    exp = Experiment(pipeline=[step])
    exp.subscribe(on_event)
    result = exp.run()
    assert arrived_during_step.is_set()
    assert result.metrics.baseline.metrics["ok"] == [1]


def test_prints_are_tagged_with_their_replicate_under_threads():
    events = []
    exp = Experiment(datasource={"events": 5}, pipeline=[chatty_step], replicates=8,
                     treatments=[Treatment("t", {})],
                     plugins=[ParallelExecution(max_workers=4, kind="thread")])
    exp.subscribe(events.append)
    exp.run(echo=False)
    outputs = [e for e in events if isinstance(e, Output)]
    assert len(outputs) == 16 * 2
    for o in outputs:
        word, treatment, replicate = o.text.split(" ")
        assert (treatment, int(replicate)) == (o.treatment, o.replicate)


def test_plugin_on_event_sees_every_event_and_a_raising_subscriber_is_disabled():
    class Counter(Plugin):
        def __init__(self):
            self.kinds = []

        def on_event(self, event):
            self.kinds.append(type(event))

    def broken(event):
        raise RuntimeError("subscriber bug")

    counter = Counter()
    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=3, plugins=[counter])
    exp.subscribe(broken)
    with pytest.warns(RuntimeWarning, match="subscriber bug.*disabled"):
        result = exp.run()
    assert result.status == "completed"
    assert counter.kinds[0] is RunStarted and counter.kinds[-1] is RunFinished
    assert counter.kinds.count(ReplicateFinished) == 3
    assert counter.kinds.count(MetricRecorded) == 6
    assert {StepStarted, StepFinished, ReplicateStarted} <= set(counter.kinds)


def test_stream_yields_in_completion_order_and_breaking_cancels_the_rest():
    exp = Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=50,
                     treatments=[Treatment("t", {"p": 0.2})])
    got = []
    for rep in exp.stream():
        got.append((rep.treatment, rep.replicate, rep.metrics["win"]))
        if len(got) == 5:
            break
    assert got[:2] == [("baseline", 0, got[0][2]), ("t", 0, got[1][2])]
    result = exp.last_result
    assert result.cancelled and result.status == "cancelled"
    assert len(result.replicate_results) == 5  # what finished is kept, nothing else started


def test_breaking_out_of_stream_with_process_workers_stops_them():
    exp = Experiment(datasource={"seconds": 0.3}, pipeline=[slow_step], replicates=20,
                     plugins=[ParallelExecution(max_workers=2)])
    for _ in exp.stream():
        break
    result = exp.last_result
    assert result.cancelled
    assert 1 <= len(result.replicate_results) <= 4
