"""experiment.start(): a RunHandle per run, in a background thread, with the real store."""

import logging
import threading
import time

import pytest
from steps import chatty_step, coin_game, failing_on_odd

from crystallize_tui import (
    ConfigError,
    Experiment,
    LoggingPlugin,
    Output,
    ParallelExecution,
    ReplicateFinished,
    RunFinished,
    RunHandle,
    RunStarted,
    Store,
    Treatment,
)

WAIT = 60  # generous: only a hang reaches it

gates: dict[str, threading.Event] = {}
entered: dict[str, threading.Semaphore] = {}


def gated(config, ctx):
    """Replicates from config['hold_from'] on wait until the test opens the gate."""
    if ctx.replicate >= config.get("hold_from", 0):
        entered[config["gate"]].release()
        assert gates[config["gate"]].wait(WAIT)
    ctx.metrics.add("x", ctx.rng.random())  # a cancellation point


def gate(name):
    gates[name], entered[name] = threading.Event(), threading.Semaphore(0)
    return name


def experiment(tmp_path, pipeline, replicates=4, **kwargs):
    return Experiment(name="handled", datasource={"p": 0.5, "gate": ""}, pipeline=pipeline,
                      replicates=replicates, treatments=[Treatment("high", {"p": 0.9})],
                      seed=11, store=tmp_path / "c.db", **kwargs)


def test_two_runs_of_one_experiment_cancel_one_the_other_completes(tmp_path):
    exp = experiment(tmp_path, [gated])
    first = exp.start(echo=False, overrides={"gate": gate("a")})
    assert isinstance(first, RunHandle)
    second = exp.start(echo=False, overrides={"gate": gate("b")})
    assert first.run_id != second.run_id
    assert entered["a"].acquire(timeout=WAIT) and entered["b"].acquire(timeout=WAIT)
    assert (first.status, second.status) == ("running", "running")
    first.cancel()
    gates["a"].set()
    gates["b"].set()
    cancelled, completed = first.wait(WAIT), second.wait(WAIT)
    assert (cancelled.status, first.status) == ("cancelled", "cancelled")
    assert (completed.status, second.status) == ("completed", "completed")
    assert len(completed.replicate_results) == 8 and completed.complete
    assert not cancelled.complete and len(cancelled.replicate_results) < 8
    stored = {r.run_id: r.status for r in Store(tmp_path / "c.db").runs("handled")}
    assert stored == {first.run_id: "cancelled", second.run_id: "completed"}


def test_experiment_cancel_still_cancels_every_run(tmp_path):
    exp = experiment(tmp_path, [gated])
    handles = [exp.start(echo=False, overrides={"gate": gate(n)}) for n in ("c", "d")]
    assert entered["c"].acquire(timeout=WAIT) and entered["d"].acquire(timeout=WAIT)
    exp.cancel()
    gates["c"].set()
    gates["d"].set()
    assert [h.wait(WAIT).status for h in handles] == ["cancelled", "cancelled"]


@pytest.mark.parametrize("plugins", [[], [ParallelExecution(2, kind="process")]],
                         ids=["serial", "processes"])
def test_wait_returns_the_result_run_would_have(tmp_path, plugins):
    exp = experiment(tmp_path, [coin_game], replicates=6, plugins=plugins)
    ran = exp.run(echo=False)
    handle = exp.start(echo=False)
    started = handle.wait(WAIT)
    assert exp.last_result is started and started.run_id == handle.run_id != ran.run_id
    assert started.status == ran.status == "completed"

    def table(result):
        return sorted((r.treatment, r.replicate, r.seed, tuple(sorted(r.metrics.items())))
                      for r in result.replicate_results)

    assert table(started) == table(ran)
    stored = Store(tmp_path / "c.db").load(handle.run_id)
    assert table(stored) == table(ran)
    mine, theirs = started.compare(), ran.compare()
    assert [(r.metric, r.treatment, r.p_value) for r in mine] == \
        [(r.metric, r.treatment, r.p_value) for r in theirs]


def test_events_and_progress_arrive_while_the_run_goes(tmp_path):
    exp = Experiment(name="live", datasource={"gate": gate("e"), "hold_from": 2},
                     pipeline=[gated], replicates=3, seed=3, store=tmp_path / "c.db")
    handle = exp.start(echo=False)
    seen = []
    for event in handle.events():
        seen.append(event)
        if isinstance(event, ReplicateFinished) and event.replicate == 1:
            break
    assert isinstance(seen[0], RunStarted) and seen[0].run_id == handle.run_id
    assert entered["e"].acquire(timeout=WAIT)  # replicate 2 is held: the run is going
    assert handle.status == "running" and not handle.done
    base = handle.progress.of("baseline")
    assert (base.done, base.failed, base.total, base.remaining) == (2, 0, 3, 1)
    assert base.eta is not None and base.eta >= 0
    with pytest.raises(TimeoutError, match=handle.run_id):
        handle.wait(timeout=0.05)
    late = handle.events()  # opened late: the run's start first, then the live tail
    gates["e"].set()
    tail = list(late)
    assert isinstance(tail[0], RunStarted)
    assert [(e.treatment, e.replicate) for e in tail if isinstance(e, ReplicateFinished)] == \
        [("baseline", 2)]
    assert isinstance(tail[-1], RunFinished) and tail[-1].status == "completed"
    assert handle.wait(WAIT).status == "completed"
    snap = handle.progress
    assert (snap.done, snap.total, snap.ended) == (3, 3, True)
    assert [type(e).__name__ for e in handle.events()] == ["RunStarted", "RunFinished"]


def test_progress_counts_failures_and_subscribers_hear_this_run(tmp_path):
    exp = experiment(tmp_path, [failing_on_odd], replicates=5)
    heard = []
    handle = exp.start(echo=False, subscribers=[heard.append])
    result = handle.wait(WAIT)
    assert result.status == handle.status == "failed"
    snap = handle.progress
    assert [(c.condition, c.done, c.failed, c.total) for c in snap.conditions] == [
        ("baseline", 5, 2, 5), ("high", 5, 2, 5)]
    assert isinstance(heard[0], RunStarted) and isinstance(heard[-1], RunFinished)
    assert sum(isinstance(e, ReplicateFinished) for e in heard) == 6


def test_a_resumed_run_progress_starts_from_what_was_done(tmp_path):
    exp = Experiment(name="again", datasource={"gate": gate("f"), "hold_from": 2},
                     pipeline=[gated], replicates=4, seed=3, store=tmp_path / "c.db")
    first = exp.start(echo=False)
    assert entered["f"].acquire(timeout=WAIT)
    first.cancel()
    gates["f"].set()
    assert first.wait(WAIT).status == "cancelled"
    resumed = exp.start(echo=False, resume=True)
    result = resumed.wait(WAIT)
    assert resumed.run_id == first.run_id and result.status == "completed"
    base = resumed.progress.of("baseline")
    assert (base.done_before, base.done, base.total) == (2, 4, 4)


def test_bad_options_are_refused_by_start_before_anything_runs(tmp_path):
    exp = experiment(tmp_path, [coin_game])
    with pytest.raises(ConfigError, match="replicates"):
        exp.start(replicates=0)
    with pytest.raises(ConfigError, match="nope"):
        exp.start(treatments=["nope"])
    assert Store(tmp_path / "c.db").runs("handled") == []


def test_unsubscribe_stops_the_callback(tmp_path):
    exp = Experiment(name="subs", datasource={"gate": gate("g"), "hold_from": 1},
                     pipeline=[gated], replicates=2, seed=3, store=tmp_path / "c.db")
    handle = exp.start(echo=False)
    assert entered["g"].acquire(timeout=WAIT)
    # Replicate 0 is announced once its group is committed (within the commit window).
    deadline = time.monotonic() + WAIT
    while handle.progress.of("baseline").done < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    kept, dropped = [], []
    handle.subscribe(kept.append)
    handle.subscribe(dropped.append)()
    gates["g"].set()
    handle.wait(WAIT)
    assert [(e.treatment, e.replicate) for e in kept if isinstance(e, ReplicateFinished)] == \
        [("baseline", 1)]
    assert dropped == []


def test_one_logging_plugin_reports_two_concurrent_runs_apart(tmp_path, caplog):
    """The reducer is per run: two started runs sharing the plugin do not mix their counts."""
    exp = experiment(tmp_path, [gated], replicates=2, plugins=[LoggingPlugin()])
    caplog.set_level(logging.INFO, logger="crystallize")
    handles = [exp.start(echo=False, overrides={"gate": gate(n)}) for n in ("h", "i")]
    for n in ("h", "i"):  # both runs have started before either goes on
        assert entered[n].acquire(timeout=WAIT)
    for n in ("h", "i"):
        gates[n].set()
    assert [h.wait(WAIT).status for h in handles] == ["completed", "completed"]
    progress = [r.getMessage() for r in caplog.records if " done" in r.getMessage()]
    # Each run logs each condition at 1/2 and 2/2: a shared count would reach 4/2.
    assert sorted(line.split(",")[0] for line in progress) == sorted(
        ["baseline: 1/2 done", "baseline: 2/2 done", "high: 1/2 done", "high: 2/2 done"] * 2)


def test_print_output_of_a_started_run_arrives_as_events(tmp_path):
    exp = experiment(tmp_path, [chatty_step], replicates=1)
    heard = []
    handle = exp.start(echo=False, subscribers=[heard.append])
    assert handle.wait(WAIT).status == "completed"
    lines = [(e.treatment, e.text) for e in heard if isinstance(e, Output)]
    assert ("baseline", "start baseline 0") in lines and ("high", "end high 0") in lines


SCRIPT = """
import os, sys, time
from crystallize_tui import Experiment

def slow(config, ctx):
    if ctx.replicate == 1:
        os.write(2, b"second replicate\\n")  # not print(): that is captured into the run
    time.sleep(0.2)
    ctx.metrics.add("x", ctx.rng.random())

exp = Experiment(name="waited", pipeline=[slow], replicates=100, seed=5, store=sys.argv[1])
handle = exp.start(echo=False)
try:
    handle.wait()
except KeyboardInterrupt:
    print("interrupted", handle.status, len(exp.last_result.replicate_results), flush=True)
    raise
"""


def test_ctrl_c_while_waiting_cancels_the_run_and_keeps_what_finished(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    db = tmp_path / "c.db"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stderr.readline().strip() == "second replicate"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    status, kept = out.split()[1:]
    assert status == "cancelled" and 1 <= int(kept) < 100
    [run] = Store(db).runs("waited")
    assert run.status == "cancelled"
    assert len(Store(db).replicates(run.run_id)) == int(kept)
