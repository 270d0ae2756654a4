"""``async def`` steps are awaited: same metrics, events and failures as synchronous ones."""

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest
from cli_support import cli, write_experiment
from steps import async_coin_game, async_double, coin_game, sync_double

from crystallize_tui import Experiment, Output, ParallelExecution, Treatment


def _experiment(pipeline, tmp_path, plugins=()):
    return Experiment(name="coins", datasource={"p": 0.5}, pipeline=pipeline, replicates=6,
                      treatments=[Treatment("biased", {"p": 0.8})], plugins=list(plugins),
                      store=tmp_path / "c.db", seed=7)


def _metrics(result):
    return {c: dict(result.metrics[c].metrics) for c in result.conditions}


@pytest.mark.parametrize("plugins", [
    [], [ParallelExecution(max_workers=2, kind="thread")], [ParallelExecution(max_workers=2)],
], ids=["serial", "threads", "processes"])
def test_async_steps_give_the_same_results_as_sync_steps(tmp_path, plugins):
    sync = _experiment([coin_game, sync_double], tmp_path).run(echo=False)
    asynchronous = _experiment([async_coin_game, async_double], tmp_path, plugins).run(echo=False)
    assert asynchronous.status == "completed" and not asynchronous.errors
    assert _metrics(asynchronous) == _metrics(sync)
    assert len(asynchronous.metrics["baseline"].metrics["score"]) == 6


def test_an_async_step_that_raises_fails_its_replicate_with_the_traceback(tmp_path):
    async def step(config, ctx):
        await asyncio.sleep(0)
        ctx.metrics.add("before", 1)
        if ctx.replicate == 1:
            raise ValueError("async trouble")

    result = Experiment(pipeline=[step], replicates=3, store=tmp_path / "c.db").run()
    assert [e.replicate for e in result.errors] == [1]
    assert "ValueError: async trouble" in result.errors[0].error
    assert "async trouble" in result.errors[0].traceback
    assert result.metrics["baseline"].metrics["before"] == [1, None, 1]  # the gap: failed


def test_async_steps_of_a_replicate_share_one_loop_and_prints_are_captured(tmp_path):
    events = []

    async def make(config, ctx):
        return asyncio.get_running_loop()

    async def use(loop, ctx):
        print("same loop" if loop is asyncio.get_running_loop() else "other loop")
        ctx.metrics.add("ok", 1)

    exp = Experiment(pipeline=[make, use], replicates=2, store=tmp_path / "c.db")
    exp.subscribe(events.append)
    result = exp.run(echo=False)
    assert result.metrics["baseline"].metrics["ok"] == [1, 1]
    assert [e.text for e in events if isinstance(e, Output)] == ["same loop", "same loop"]


def test_async_steps_run_when_the_caller_already_runs_an_event_loop(tmp_path):
    async def caller():  # as in a notebook, where a loop runs in the main thread
        return _experiment([async_coin_game], tmp_path).run(echo=False)

    inside = asyncio.run(caller())
    outside = _experiment([coin_game], tmp_path).run(echo=False)
    assert _metrics(inside) == _metrics(outside)


def test_crystallize_run_awaits_an_async_step(tmp_path):
    folder = tmp_path / "experiments" / "aio"
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text("pipeline: [steps:play]\nreplicates: 3\n")
    (folder / "steps.py").write_text(textwrap.dedent('''
        import asyncio

        async def play(config, ctx):
            await asyncio.sleep(0)
            ctx.metrics.add("score", ctx.replicate * 10)
    '''))
    out = subprocess.run([sys.executable, "-m", "crystallize_tui.cli", "run", "aio", "--json"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr

    doc = json.loads(out.stdout)
    assert doc["status"] == "completed"
    values = sorted(r["values"] for r in doc["replicate_results"])
    assert values == [[["score", 0]], [["score", 10]], [["score", 20]]]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_traceback_of_an_async_step_starts_at_the_users_code(tmp_path, workers):
    write_experiment(tmp_path, "aio", "pipeline: [steps:play]\nreplicates: 3\n", {"steps.py": '''
        import asyncio

        async def play(config, ctx):
            await asyncio.sleep(0)
            if ctx.replicate == 1:
                raise ValueError("async trouble")
            if ctx.replicate == 2:
                raise KeyboardInterrupt
            ctx.metrics.add("score", 1)
    '''})
    run = cli(tmp_path, "run", "aio", "-w", workers)
    assert run.returncode == 1, run.stderr
    shown = cli(tmp_path, "show", run.stdout.split("crystallize show ")[1].split()[0])
    tracebacks = shown.stdout.split("Traceback (most recent call last):\n")[1:]
    assert len(tracebacks) == 2
    for text in tracebacks:  # the event loop that ran the step is the engine's, not theirs
        assert text.splitlines()[0].startswith(f'  File "{tmp_path}/experiments/aio/steps.py"'), text
        assert "asyncio" not in text.split("\n\n")[0].replace("import asyncio", ""), text
