"""Stopping a run at its current look (the run screen's `s`, `crystallize stop RUN`) is not a
cancel: no new replicate starts, the ones running in worker processes finish and are kept,
and the run reads "stopped: at look" (a real run process, real worker processes, the store)."""

import json
import time

from cli_support import cli, stored_replicates
from textual.widgets import Static
from tui_support import app_for, start_run, stored, text_of, until, write

# Replicates from 3 on wait (bounded) until the run stops starting new ones: they are the
# ones running at the stop, whatever the machine's speed. A cancel would make their
# metrics.add raise (lost); a stop lets them finish.
STEP = '''
import random
import time

def measure(config, ctx):
    deadline = time.monotonic() + 30
    while ctx.replicate >= 3 and not ctx.stopping and time.monotonic() < deadline:
        time.sleep(0.01)
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("m", rng.gauss(config["mu"], 1))
'''

YAML = '''
pipeline: [steps:measure]
datasource: {mu: 0.0}
replicates: 40
run: {backend: processes, workers: 2}
treatments:
  shifted: {mu: 1.0}
'''


async def test_s_keeps_the_replicates_running_in_worker_processes(tmp_path):
    write(tmp_path / "experiments" / "wait", {"experiment.yaml": YAML, "steps.py": STEP})
    app = app_for(tmp_path)
    async with app.run_test(size=(180, 48)) as pilot:
        screen = await start_run(app, pilot, "wait")
        await until(pilot, lambda: screen.process is not None and screen.started is not None
                    and len(screen.process.running_replicates()) == 2
                    and screen.query_one("#progress").finished_count == 6)
        running = screen.process.running_replicates()
        await pilot.press("s")
        await until(pilot, lambda: screen.result is not None)
        result = screen.result
        assert result.status == "stopped: at look" and not result.cancelled
        kept = {(r.treatment, r.replicate) for r in result.replicate_results if r.ok}
        assert set(running) <= kept and len(kept) == 8, (running, kept)
        assert result.stop["stopping_replicate"] == 3 and result.stop["finished_after"] == 2
        assert "stopped: at look at replicate 3" in text_of(screen.query_one("#run-status", Static))
        verdicts = text_of(screen.query_one("#verdicts", Static))
        assert "stopped: at look at replicate 3 (2 more finished after the stop, kept)" in verdicts
    assert stored(tmp_path, "SELECT COUNT(*) FROM replicates WHERE status = 'ok'") == [(8,)]
    ((status, stop),) = stored(tmp_path, "SELECT status, stop FROM runs")
    assert status == "stopped: at look" and json.loads(stop)["finished_after"] == 2


def test_crystallize_stop_ends_a_detached_run_at_its_look_keeping_the_running_ones(tmp_path):
    write(tmp_path / "experiments" / "wait", {"experiment.yaml": YAML, "steps.py": STEP})
    started = cli(tmp_path, "run", "wait", "--detach")
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.strip()
    db = tmp_path / ".crystallize" / "crystallize.db"
    deadline = time.monotonic() + 60
    while stored_replicates(db) < 6:  # rounds 0-2; the workers wait in replicate 3
        assert time.monotonic() < deadline, "the detached run never got going"
        time.sleep(0.05)
    out = cli(tmp_path, "stop", run_id)
    assert out.returncode == 0, out.stderr
    assert "stop requested" in out.stderr and "running ones finish and are kept" in out.stderr
    assert f"run {run_id} stopped: at look: 8 replicate(s) ok" in out.stdout
    assert "stopped: at look at replicate 3 (2 more finished after the stop, kept)" in out.stdout
    assert stored(tmp_path, "SELECT status FROM runs") == [("stopped: at look",)]
    assert stored(tmp_path, "SELECT COUNT(*) FROM replicates WHERE status = 'ok'") == [(8,)]
    again = cli(tmp_path, "stop", run_id)
    assert again.returncode == 0 and "is not running (stopped: at look); nothing to stop" in again.stdout


def _stop_with_two_running(tmp_path, step_source: str, execution: dict):
    """Start a 40-replicate run of ``step_source``'s ``measure`` on ``execution``, stop it
    once two replicates from replicate 3 on have begun; (the ones that began, the result,
    the handle)."""
    import threading

    from crystallize_tui import Experiment, Treatment
    from crystallize_tui.core import events as ev

    namespace: dict = {}
    exec(step_source, namespace)
    began: list[tuple[str, int]] = []
    both = threading.Event()

    def watch(event):
        if isinstance(event, ev.ReplicateStarted) and event.replicate >= 3:
            began.append((event.treatment, event.replicate))
            if len(began) == 2:
                both.set()

    experiment = Experiment(name="wait", datasource={"mu": 0.0}, pipeline=[namespace["measure"]],
                            treatments=[Treatment("shifted", {"mu": 1.0})], replicates=40,
                            store=tmp_path / "s.db", execution=execution)
    handle = experiment.start(subscribers=[watch])
    assert both.wait(60), "the run never reached replicate 3"
    handle.stop()
    return began, handle.wait(60), handle


def _kept_the_two(began, result) -> None:
    kept = {(r.treatment, r.replicate) for r in result.replicate_results if r.ok}
    assert set(began) <= kept and len(kept) == 8, (began, kept)
    assert result.stop["stopping_replicate"] == 3 and result.stop["finished_after"] == 2


def test_handle_stop_in_python_lets_the_running_replicates_finish(tmp_path):
    """``handle.stop()`` from the thread that started the run: the same graceful stop."""
    began, result, handle = _stop_with_two_running(
        tmp_path, STEP, {"backend": "threads", "workers": 2})
    assert result.status == "stopped: at look" and handle.status == "stopped: at look"
    _kept_the_two(began, result)


def test_a_stop_request_the_run_never_acted_on_is_not_a_stop_and_not_inherited(tmp_path):
    """Asked as the run ended (or as its process died): the stored run has no stop, and
    its resume is not stopped by it."""
    from crystallize_tui import Experiment, Treatment
    from crystallize_tui.core.store import Store

    def step(config, ctx):
        if config.get("fail") and ctx.replicate == 1:
            raise ValueError("flaky")
        ctx.metrics.add("m", ctx.replicate + config["mu"])

    def experiment(**extra):
        return Experiment(name="late", datasource={"mu": 0.0, **extra}, pipeline=[step],
                          treatments=[Treatment("up", {"mu": 1.0})], replicates=3,
                          store=tmp_path / "s.db")

    failed = experiment(fail=True).run()
    store = Store(tmp_path / "s.db")
    store.request_stop(failed.run_id)
    assert store.load(failed.run_id).stop is None
    resumed = experiment().run(resume=True, force=True)
    assert resumed.run_id == failed.run_id and resumed.status == "completed"
    assert resumed.stop is None and len(resumed.replicate_results) == 6
    assert not store.stop_requested(failed.run_id)  # a run process's poller would not stop it


ASYNC_STEP = '''
import asyncio
import random
import time

async def measure(config, ctx):
    deadline = time.monotonic() + 30
    while ctx.replicate >= 3 and not ctx.stopping and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    rng = random.Random(f"{ctx.treatment}-{ctx.seed}")
    ctx.metrics.add("m", rng.gauss(config["mu"], 1))
'''


def test_a_stop_lets_the_async_backends_running_tasks_finish_and_keeps_them(tmp_path):
    """The async backend, stopped at a look with two replicates awaiting: they finish and are
    kept, as a pool's are (a cancel would end them at their await, lost)."""
    began, result, _ = _stop_with_two_running(
        tmp_path, ASYNC_STEP, {"backend": "async", "concurrency": 2})
    assert result.status == "stopped: at look" and not result.cancelled
    _kept_the_two(began, result)
