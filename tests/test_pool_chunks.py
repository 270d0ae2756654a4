"""The local pool hands out replicates in chunks: the same metrics as serial, a worker that
dies mid-chunk loses nothing but its own replicate, events stream while a chunk runs, a
cancel stops a chunk at once, and slow chunks give their rest to idle workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from steps import coin_game

from crystallize_tui import ConfigError, Experiment, SeedPlugin, Treatment, UserEvent
from crystallize_tui.core.backends.chunks import GIVE_BACK_SECONDS, TARGET_SECONDS, ChunkSizer


def die_on(config, ctx):
    """Kills its worker process (as a segfault would) in one chosen replicate."""
    if ctx.replicate == config["die"] and ctx.treatment == "baseline":
        os._exit(3)
    ctx.metrics.add("v", ctx.replicate)


def print_then_die(config, ctx):
    """Replicate 1 prints and outlasts the worker's 20 ms flush (its line reaches the run),
    then replicate 2, in the same chunk, kills the worker before replicate 1's result is sent."""
    print(f"line of {ctx.treatment} {ctx.replicate}")
    if ctx.treatment == "baseline" and ctx.replicate == 1:
        time.sleep(0.1)
    if ctx.treatment == "baseline" and ctx.replicate == 2:
        os._exit(3)
    ctx.metrics.add("v", ctx.replicate)


def ack_on(config, ctx):
    """Replicate ``config["wait"]`` emits, then waits for the parent to acknowledge (a
    file): it only finishes with ack=1 if its event reached the parent while it ran."""
    ctx.metrics.add("pid", os.getpid())
    if ctx.replicate != config["wait"]:
        return
    ack = Path(config["folder"]) / "ack"
    ctx.emit("begin", replicate=ctx.replicate)
    deadline = time.monotonic() + 20  # only reached if events wait for the chunk's end
    while time.monotonic() < deadline:
        if ack.exists():
            ctx.metrics.add("ack", 1)
            return
        time.sleep(0.005)
    ctx.metrics.add("ack", 0)


def short_sleep(config, ctx):
    time.sleep(config["seconds"])
    ctx.metrics.add("pid", os.getpid())


def pool(workers=2, **settings):
    return {"backend": "processes", "workers": workers, **settings}


def coins(replicates, execution=None):
    return Experiment(datasource={"p": 0.5}, pipeline=[coin_game], replicates=replicates,
                      plugins=[SeedPlugin(seed=7)], execution=execution,
                      treatments=[Treatment("high", {"p": 0.8})], store=None)


@pytest.mark.parametrize("chunk", [None, 7], ids=["measured", "fixed-7"])
def test_chunked_runs_give_the_serial_metrics_for_the_same_seed(chunk):
    serial = coins(300).run(echo=False)
    settings = {} if chunk is None else {"chunk": chunk}
    chunked = coins(300, pool(**settings)).run(echo=False)
    assert chunked.status == "completed"
    for condition in serial.conditions:
        assert chunked.metrics[condition].metrics == serial.metrics[condition].metrics
        assert [r.seed for r in chunked.metrics[condition].replicates] == [
            r.seed for r in serial.metrics[condition].replicates]


@pytest.mark.parametrize("chunk,die,method", [(6, 1, None), (None, 250, None), (None, 250, "spawn")],
                         ids=["fixed-chunk", "measured-late", "measured-late-spawn"])
def test_a_worker_killed_mid_chunk_fails_only_the_replicate_it_was_running(chunk, die, method):
    # fixed-chunk: replicate 1's baseline is the third task of the first chunk, after two
    # finished ones; measured-late: by replicate 250 chunks hold many fast replicates.
    settings = {} if chunk is None else {"chunk": chunk}
    if method:
        settings["start_method"] = method
    exp = Experiment(datasource={"die": die}, pipeline=[die_on], replicates=400,
                     treatments=[Treatment("t", {})], execution=pool(**settings), store=None)
    result = exp.run(echo=False)
    expected = list(range(400))
    assert result.metrics["t"].metrics["v"] == expected
    expected[die] = None
    assert result.metrics.baseline.metrics["v"] == expected
    (error,) = result.errors
    assert (error.treatment, error.replicate) == ("baseline", die)
    assert "WorkerDied" in error.error and "exited with code 3" in error.error


def test_a_replicate_run_again_after_its_worker_died_says_why_its_lines_repeat():
    from crystallize_tui.core.backends.pool import RUNS_AGAIN
    from crystallize_tui.core.events import Output

    lines = []
    exp = Experiment(pipeline=[print_then_die], replicates=40, store=None,
                     execution=pool(1, chunk=8))  # replicates 0-7 in the first chunk
    exp.subscribe(lambda e: lines.append((e.treatment, e.replicate, e.text))
                  if isinstance(e, Output) else None)
    result = exp.run(echo=False)
    assert result.metrics.baseline.metrics["v"] == [0, 1, None, *range(3, 40)]
    said = [(c, k) for c, k, text in lines if text == RUNS_AGAIN]
    repeated = {(c, k) for c, k, text in lines
                if text.startswith("line of") and lines.count((c, k, text)) > 1}
    assert ("baseline", 1) in repeated  # its line came, then its rerun's
    assert set(said) == repeated and len(said) == len(repeated)
    first, notice, again = (i for i, (c, k, text) in enumerate(lines)
                            if (c, k) == ("baseline", 1))
    assert lines[notice][2] == RUNS_AGAIN and first < notice < again


@pytest.mark.parametrize("workers", [1, 2])
def test_events_of_a_replicate_inside_a_long_chunk_reach_subscribers_while_it_runs(tmp_path, workers):
    def on_event(event):
        if isinstance(event, UserEvent) and event.kind == "begin":
            (tmp_path / "ack").touch()

    # Chunks of 10 (1/4 of the 40, with 2 workers) or 20: replicate 3 waits for its event's
    # acknowledgement with the rest of its chunk still to run after it.
    exp = Experiment(datasource={"folder": str(tmp_path), "wait": 3}, pipeline=[ack_on],
                     replicates=40, execution=pool(workers, chunk=40), store=None)
    exp.subscribe(on_event)
    result = exp.run(echo=False)
    assert result.status == "completed"
    assert result.replicate("baseline", 3).metrics["ack"] == 1
    assert os.getpid() not in set(result.metrics.baseline.metrics["pid"])


@pytest.mark.parametrize("backend", ["processes", "threads"])
def test_cancel_during_a_chunk_of_fast_replicates_stops_it_at_once(backend):
    # Each worker holds a chunk of 1,000 replicates of 2 ms: without a check before every
    # replicate, a cancel would wait for the whole chunk (2 s) and keep ~2,000 results.
    exp = Experiment(datasource={"seconds": 0.002}, pipeline=[short_sleep], replicates=4000,
                     execution={"backend": backend, "workers": 2, "chunk": 1000}, store=None)
    finished = []

    def on_event(event):
        if type(event).__name__ == "ReplicateFinished":
            finished.append(event)
            if len(finished) == 5:
                threading.Thread(target=exp.cancel).start()

    exp.subscribe(on_event)
    result = exp.run(echo=False)
    assert result.cancelled
    done = [r for r in result.replicate_results if r.ok]
    assert 5 <= len(done) < 500  # what ran while the cancel travelled, not the chunks' rest


def fast_then_slow(config, ctx):
    if ctx.replicate >= config["slow_from"]:
        time.sleep(0.02)
    ctx.metrics.add("pid", os.getpid())


def longest_run(values):
    best = run = 1
    for a, b in zip(values, values[1:], strict=False):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def test_a_chunk_slower_than_measured_gives_its_rest_to_other_workers():
    # 2,000 trivial replicates grow the chunks to hundreds; then 200 of 20 ms each. Kept
    # whole, the chunk that holds the first slow ones would run 50 or more of them on one
    # worker (a second or more) while the other idles; given back after GIVE_BACK_SECONDS
    # (~12 of them), the rest is shared out in small chunks.
    exp = Experiment(datasource={"slow_from": 2000}, pipeline=[fast_then_slow], replicates=2200,
                     execution=pool(), store=None)
    result = exp.run(echo=False)
    assert result.status == "completed"
    slow = result.metrics.baseline.metrics["pid"][2000:]
    assert len(set(slow)) == 2
    assert longest_run(slow) < 30, slow
    assert GIVE_BACK_SECONDS / 0.02 < 30


def test_chunk_setting_is_checked_and_named():
    for bad in (0, -3, 1.5, True, "big"):
        with pytest.raises(ConfigError, match=r"chunk must be a whole number >= 1"):
            Experiment(pipeline=[die_on], execution=pool(chunk=bad))
    with pytest.raises(ConfigError, match="backend 'serial' has no setting 'chunk'"):
        Experiment(pipeline=[die_on], execution={"backend": "serial", "chunk": 4})


def test_chunk_sizes_grow_from_one_with_fast_replicates_and_stay_one_with_slow():
    fast = ChunkSizer(2)
    sizes = [fast.size(100_000)]
    for _ in range(20):
        fast.observe(sizes[-1] * 1e-5, sizes[-1])  # 10 us each
        sizes.append(fast.size(100_000))
    assert sizes[:4] == [1, 2, 4, 8]  # at most twofold from one chunk to the next
    assert abs(sizes[-1] - TARGET_SECONDS / 1e-5) <= 1  # then ~TARGET_SECONDS of work each

    slow = ChunkSizer(2)
    for _ in range(5):
        slow.observe(0.5, 1)
        assert slow.size(100_000) == 1

    # The last replicates spread over every worker, whatever the speed.
    assert fast.size(40) == 10 and fast.size(3) == 1
    assert ChunkSizer(2, fixed=50).size(1000) == 50 and ChunkSizer(2, fixed=50).size(30) == 8


def test_pool_bench_measures_the_floor_the_pool_and_the_stdlib_reference_in_one_run(tmp_path):
    bench = Path(__file__).resolve().parent.parent / "bench" / "pool.py"
    out = subprocess.run(
        [sys.executable, str(bench), "--trivial", "20", "--rounds", "1", "--cpu", "4",
         "--cpu-ms", "1", "--cpu-rounds", "1", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert set(figures["trivial"]) == {"serial (floor)", "processes x2", "processes x4",
                                       "processes x2, chunk=1"}
    assert set(figures["cpu"]) == {"crystallize processes x2", "ProcessPoolExecutor(2).map"}
    assert all(row["cpu_seconds"] > 0 for row in figures["cpu"].values())
    assert not (tmp_path / ".crystallize").exists()  # in memory: no store left behind
