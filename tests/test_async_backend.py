"""The async backend: many replicates as tasks of one event loop, same results as serial."""

import asyncio
import json
import re
import subprocess
import sys
import textwrap

import pytest
from cli_support import EXITS_STEP, cli, write_experiment

from crystallize_tui import Experiment, Output, ParallelExecution, Treatment, pipeline_step
from crystallize_tui.core.backends.options import resolve
from crystallize_tui.core.errors import ConfigError
from crystallize_tui.core.events import ReplicateFinished
from crystallize_tui.core.store import Store

in_flight = {"now": 0, "most": 0}


async def play(config, ctx):
    in_flight["now"] += 1
    in_flight["most"] = max(in_flight["most"], in_flight["now"])
    try:
        print(f"start {ctx.treatment} {ctx.replicate}")
        # Later replicates finish first, so replicates interleave on the loop.
        await asyncio.sleep(0.002 * (10 - ctx.replicate % 10))
        print(f"half {ctx.treatment} {ctx.replicate}", end="")
        await asyncio.sleep(0)
        print(f" end {ctx.treatment} {ctx.replicate}")
    finally:
        in_flight["now"] -= 1
    ctx.metrics.add("score", ctx.rng.random() + config["p"])
    return ctx.rng.random()


def judge(x, ctx):  # a plain step: runs in a thread of the loop's executor
    print(f"judge {ctx.treatment} {ctx.replicate}")
    ctx.metrics.add("judged", x * 2)
    return x


def _experiment(store, replicates=12):
    return Experiment(name="games", datasource={"p": 0.5}, pipeline=[play, judge],
                      replicates=replicates, treatments=[Treatment("bold", {"p": 0.8})],
                      store=store, seed=3)


def test_async_run_matches_serial_replicate_by_replicate_and_routes_print(tmp_path):
    lines = []
    serial = _experiment(tmp_path / "s.db").run(echo=False)
    exp = _experiment(tmp_path / "a.db")
    exp.subscribe(lambda e: lines.append(e) if isinstance(e, Output) else None)
    # A subscriber's own print goes to the terminal, not to the replicate whose event it hears.
    exp.subscribe(lambda e: print("heard", type(e).__name__) if isinstance(e, ReplicateFinished) else None)
    in_flight["most"] = 0
    result = exp.run(backend="async", concurrency=5, echo=False)
    assert result.status == "completed"
    assert in_flight["most"] == 5  # replicates overlapped, never more than asked for
    key = {(r.treatment, r.replicate): r.values for r in serial.replicate_results}
    assert {(r.treatment, r.replicate): r.values for r in result.replicate_results} == key
    # Every line went to the replicate that printed it, though they interleaved.
    assert len(lines) == 24 * 3
    for event in lines:
        assert event.text.split()[-1] == str(event.replicate), event
        assert event.treatment in event.text
    assert {e.text for e in lines if e.replicate == 4 and e.treatment == "bold"} == {
        "start bold 4", "half bold 4 end bold 4", "judge bold 4"}
    stored = Store(tmp_path / "a.db").replicates(result.run_id)
    assert sorted((r.treatment, r.replicate, r.values) for r in stored) == sorted(
        (t, k, v) for (t, k), v in key.items())


def test_cancel_stops_tasks_at_their_awaits_and_keeps_the_finished(tmp_path):
    release = {}

    async def wait_for_ever(config, ctx):
        if ctx.replicate >= 3:
            await asyncio.Event().wait()  # only a cancel ends this
        ctx.metrics.add("x", ctx.replicate)

    exp = Experiment(name="hang", pipeline=[wait_for_ever], replicates=10, store=tmp_path / "c.db")
    committed_when_heard = []

    def on_event(event):
        if isinstance(event, ReplicateFinished):
            ids = {r.replicate for r in Store(tmp_path / "c.db").replicates(event.run_id)}
            committed_when_heard.append(event.replicate in ids)
            release[event.replicate] = True
            if len(release) == 3:
                exp.cancel()

    exp.subscribe(on_event)
    result = exp.run(backend="async", concurrency=6, grace=0)
    assert result.status == "cancelled"
    assert sorted(r.replicate for r in result.replicate_results if r.ok) == [0, 1, 2]
    assert committed_when_heard == [True, True, True]  # commit, then announce
    assert len(Store(tmp_path / "c.db").replicates(result.run_id)) == 3


def test_retries_failures_and_tracebacks_under_async(tmp_path):
    attempts = {}

    @pipeline_step(retries=1)
    async def flaky(config, ctx):
        attempts[ctx.replicate] = attempts.get(ctx.replicate, 0) + 1
        ctx.metrics.add("attempt", attempts[ctx.replicate])
        await asyncio.sleep(0)
        if attempts[ctx.replicate] == 1:
            raise RuntimeError("first try fails")
        return ctx.replicate

    def check(k, ctx):
        if k == 2:
            raise ValueError("plain step trouble")
        ctx.metrics.add("k", k)

    result = Experiment(name="flaky", pipeline=[flaky, check], replicates=4, store=None).run(
        backend="async", concurrency=4, echo=False)
    assert result.metrics["baseline"].metrics["attempt"] == [2, 2, None, 2]  # first attempt rolled back
    assert [e.replicate for e in result.errors] == [2]
    trace = result.errors[0].traceback
    assert trace.lstrip().startswith("Traceback") and "in check" in trace.splitlines()[1]
    assert "concurrent" not in trace and "asyncio" not in trace


def test_async_options_from_plugin_kwargs_and_errors():
    assert ParallelExecution(kind="async", max_concurrency=8).execution() == {
        "backend": "async", "concurrency": 8, "grace": 2.0}
    assert resolve({"backend": "serial"}, None, {"concurrency": 16}) == {
        "backend": "async", "concurrency": 16}
    exp = Experiment(pipeline=[judge], store=None, execution={"backend": "async"})
    assert repr(exp.prepare().backend) == "<AsyncBackend async x32>"
    with pytest.raises(ConfigError, match="concurrency must be a whole number from 1 to 100,000.*got 0"):
        Experiment(pipeline=[judge], execution={"backend": "async", "concurrency": 0})
    with pytest.raises(ConfigError, match="max_concurrency is for kind='async'"):
        ParallelExecution(kind="thread", max_concurrency=4)


def test_cli_runs_an_async_yaml_experiment_with_concurrency(tmp_path):
    write_experiment(tmp_path, "calls", textwrap.dedent("""
        pipeline: [api:call]
        replicates: 5
        run: {backend: async, concurrency: 2}
    """), {"api.py": textwrap.dedent("""
        import asyncio

        in_flight = []

        async def call(config, ctx):
            in_flight.append(ctx.replicate)
            await asyncio.sleep(0.05)
            ctx.metrics.add("overlap", len(in_flight))
            in_flight.remove(ctx.replicate)
    """)})
    proc = cli(tmp_path, "run", "calls", "--concurrency", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "completed"
    assert max(dict(r["values"])["overlap"] for r in doc["replicate_results"]) == 3  # the flag's, not the YAML's
    bad = cli(tmp_path, "run", "calls", "--concurrency", "0")
    assert bad.returncode == 2 and "concurrency must be a whole number" in bad.stderr


async def test_the_launch_dialog_offers_async_and_runs_it_in_flight(tmp_path):
    from textual.widgets import Select
    from tui_support import app_for, launch_to_end, open_launch

    write_experiment(tmp_path, "agents", "pipeline: [a:step]\nreplicates: 6\nrun: {backend: async, "
                     "concurrency: 3}\n", {"a.py": textwrap.dedent("""
        import asyncio, os

        in_flight = []

        async def step(config, ctx):
            in_flight.append(ctx.replicate)
            await asyncio.sleep(0.05)
            ctx.metrics.add("overlap", len(in_flight))
            ctx.metrics.add("pid", os.getpid())
            in_flight.remove(ctx.replicate)
    """)})
    app = app_for(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_launch(app, pilot, "agents")
        backend = dialog.query_one("#backend", Select)
        assert backend.value == "async" and dialog.query_one("#workers").value == "3"
        screen = await launch_to_end(app, pilot, dialog)
        outcomes = screen.result.replicate_results
    assert screen.result.status == "completed" and len(outcomes) == 6
    assert len({o.metrics["pid"] for o in outcomes}) == 1  # one process: the run's
    assert max(o.metrics["overlap"] for o in outcomes) == 3


def test_an_async_run_started_from_a_running_event_loop(tmp_path):
    """As in a notebook: run() called where a loop already runs gives the same results."""
    lines = []
    exp = _experiment(None, replicates=3)
    exp.subscribe(lambda e: lines.append(e) if isinstance(e, Output) else None)

    async def notebook_cell():
        return exp.run(backend="async", concurrency=4, echo=False)

    result = asyncio.run(notebook_cell())
    serial = _experiment(None, replicates=3).run(echo=False)
    assert result.status == "completed"
    assert [r.values for r in result.replicate_results] == [r.values for r in serial.replicate_results]
    assert sorted(e.text for e in lines if e.replicate == 2 and e.treatment == "baseline") == [
        "half baseline 2 end baseline 2", "judge baseline 2", "start baseline 2"]


@pytest.mark.parametrize("backend", ["serial", "threads", "async"])
def test_print_from_a_thread_an_async_step_starts_belongs_to_its_replicate(backend):
    async def step(config, ctx):
        await asyncio.to_thread(print, f"from a thread {ctx.replicate}")

    lines = []
    exp = Experiment(pipeline=[step], replicates=3, store=None)
    exp.subscribe(lambda e: lines.append((e.replicate, e.text)) if isinstance(e, Output) else None)
    assert exp.run(backend=backend, echo=False).status == "completed"
    assert sorted(lines) == [(k, f"from a thread {k}") for k in range(3)]


def test_a_step_raising_systemexit_or_keyboardinterrupt_fails_only_its_replicate(tmp_path):
    write_experiment(tmp_path, "exits", "pipeline: [steps:exits]\nreplicates: 4\n",
                     {"steps.py": EXITS_STEP})
    out = cli(tmp_path, "run", "exits", "--backend", "async", "--json")
    doc = json.loads(out.stdout)
    assert out.returncode == 1 and doc["status"] == "failed", out.stderr
    failed = {r["replicate"]: r["error"] for r in doc["replicate_results"] if r["status"] == "failed"}
    assert failed == {1: "SystemExit: 5", 2: "KeyboardInterrupt: "}


def test_a_plain_step_stuck_past_a_cancel_does_not_hold_the_process_at_exit(tmp_path):
    script = textwrap.dedent("""
        import time
        from crystallize_tui import Experiment, StepStarted

        def stuck(data, ctx):  # no cancellation point for two minutes
            time.sleep(120)

        exp = Experiment(pipeline=[stuck], replicates=2, store=None)
        exp.subscribe(lambda e: exp.cancel() if isinstance(e, StepStarted) else None)
        print(exp.run(backend="async", grace=0.1).status, flush=True)
    """)
    # Before: the thread pool running the step was joined at exit, two minutes later.
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    assert out.stdout.strip() == "cancelled" and out.returncode == 0, out.stderr


def test_an_async_step_that_blocks_the_loop_is_reported_once_in_its_output():
    import time

    async def careless(data, ctx):
        await asyncio.sleep(0)
        if ctx.replicate == 1:
            time.sleep(0.6)  # should have been: await asyncio.sleep(0.6)
        ctx.metrics.add("x", 1)

    lines = []
    exp = Experiment(pipeline=[careless], replicates=3, store=None)
    exp.subscribe(lambda e: lines.append(e) if isinstance(e, Output) else None)
    assert exp.run(backend="async", echo=False).status == "completed"
    assert [(e.replicate, e.stream) for e in lines] == [(1, "log")]
    assert re.match(r"async step 'careless' ran \d+\.\d s without awaiting, blocking the event loop",
                    lines[0].text), lines[0].text


def test_a_plugin_failure_stops_an_async_run_with_the_plugins_error(tmp_path):
    from crystallize_tui import Plugin, PluginError

    class Fussy(Plugin):
        def after_replicate(self, ctx, result):
            if ctx.replicate == 2:
                raise RuntimeError("cannot log replicate 2")

    async def step(data, ctx):
        await asyncio.sleep(0.001 * ctx.replicate)
        ctx.metrics.add("x", 1)

    exp = Experiment(name="fussy", pipeline=[step], replicates=20, plugins=[Fussy()], store=tmp_path / "f.db")
    with pytest.raises(PluginError, match="plugin Fussy failed in after_replicate: RuntimeError: cannot log"):
        exp.run(backend="async", concurrency=4)
    run = Store(tmp_path / "f.db").runs("fussy")[0]
    assert run.status == "failed" and 2 <= len(Store(tmp_path / "f.db").replicates(run.run_id)) < 20
