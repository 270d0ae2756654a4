"""Live-run measurements for bench/tui.py: key latency while a run streams, event rates, memory.

The app launches each run in a process of its own (core/run_process.py), as a user's r does;
"headless" is the same run process with nobody watching: its channel drained by a bare
reader that only counts (no app), and for runs that end by themselves also plain
``crystallize run`` in a subprocess (no channel at all), timed from the store."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.message_pump import MessagePump

from crystallize_tui.commands.common import Workspace
from crystallize_tui.core import events as ev
from crystallize_tui.core.run_process import RunEnded, RunProcess
from crystallize_tui.tui.app import make_app
from crystallize_tui.tui.screens.run import RunScreen
from crystallize_tui.tui.widgets.output import OutputLog

SIZE = (160, 48)
PAGE = os.sysconf("SC_PAGE_SIZE")


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p99/max in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "p50_ms": cuts[49] * 1e3, "p99_ms": cuts[98] * 1e3,
            "max_ms": max(samples) * 1e3}


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


async def until(predicate: Any, timeout: float = 30.0, step: float = 0.005) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(step)


def send_key(app: App, key: str) -> None:
    """What Pilot.press does first (a Key event through the driver), without the
    wait_for_idle that follows it: that wait never sees an idle CPU while a run streams,
    so each Pilot.press then takes ~2 s (measured) and 200 presses would take minutes."""
    event = events.Key(key, key)
    event.set_sender(app)
    app._driver.send_message(event)


class ActionClock:
    """Wraps a screen's action so the benchmark knows when it actually ran."""

    def __init__(self, screen: Any, action: str) -> None:
        self.ran = asyncio.Event()
        self.at = 0.0
        original = getattr(screen, f"action_{action}")

        def timed(*args: Any) -> Any:
            self.at = time.perf_counter()
            self.ran.set()
            return original(*args)

        setattr(screen, f"action_{action}", timed)  # Textual looks actions up on the instance

    async def press(self, app: App, key: str) -> float:
        self.ran.clear()
        start = time.perf_counter()
        send_key(app, key)
        await asyncio.wait_for(self.ran.wait(), 10)
        return self.at - start


class CrossThreadCalls:
    """Counts messages posted and call_from_thread calls made from threads other than the
    UI's: the run thread must batch, so this should stay near the drain rate, not the event rate."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> CrossThreadCalls:
        ui = threading.get_ident()
        self._post, self._call = MessagePump.post_message, App.call_from_thread

        def post_message(pump: Any, message: Any) -> bool:
            if threading.get_ident() != ui:
                self.count += 1
            return self._post(pump, message)

        def call_from_thread(app: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return self._call(app, *args, **kwargs)

        MessagePump.post_message, App.call_from_thread = post_message, call_from_thread
        return self

    def __exit__(self, *exc: Any) -> None:
        MessagePump.post_message, App.call_from_thread = self._post, self._call


def _tree_nodes(node: Any) -> Any:
    for child in node.children:
        yield child
        yield from _tree_nodes(child)


async def open_run(app: App, name: str) -> RunScreen:
    """Select ``name`` on the home screen and press r, as a user would."""
    await until(lambda: app.discovery is not None)
    tree = app.screen.query_one("#experiments")
    # The home screen puts its cursor on the first experiment after its next refresh:
    # wait for that, or it would undo the move below and r would run another experiment.
    await until(lambda: tree.cursor_node is not None)
    node = next(n for n in _tree_nodes(tree.root) if n.data and n.data[1].name == name)
    tree.move_cursor(node)
    await until(lambda: tree.cursor_node is node)
    send_key(app, "r")
    await until(lambda: isinstance(app.screen, RunScreen))
    screen: RunScreen = app.screen  # type: ignore[assignment]
    if screen.experiment.name != name:
        await stop_run(screen)
        raise RuntimeError(f"r ran {screen.experiment.name!r}, not {name!r}")
    await until(lambda: screen.bridge.received > 0)
    return screen


async def _load(root: Path, name: str, presses: int | None, idle_presses: int,
                warmup: float, out: dict[str, Any]) -> None:
    app = make_app(root, root / ".bench" / f"{name}.db", watch=False)
    async with app.run_test(size=SIZE):
        screen = await open_run(app, name)
        try:
            await _presses(app, screen, presses, idle_presses, warmup, out)
        finally:  # a failed measurement must not leave a run streaming
            await stop_run(screen)


async def stop_run(screen: RunScreen) -> None:
    """Cancel the screen's run process and wait until it is gone (terminated after the
    grace period if it does not stop): the app's exit would leave it running."""
    await until(lambda: screen.process is not None or not screen.running, timeout=30)
    process = screen.process
    if process is None or not process.alive:
        return
    if not screen.cancelling:
        process.cancel(grace=5.0)
    await until(lambda: not process.alive, timeout=30)


async def _presses(app: App, screen: RunScreen, presses: int | None, idle_presses: int,
                   warmup: float, out: dict[str, Any]) -> None:
    jitter = random.Random(0)  # presses land at every phase of the 15 Hz drain
    clock = ActionClock(screen, "filter_output")
    await asyncio.sleep(warmup)  # the output panel fills to its bound first
    latencies = []
    with CrossThreadCalls() as calls:
        r0, f0, t0 = screen.bridge.received, len(screen.finished), time.perf_counter()
        # presses=None: keep pressing until the run ends by itself.
        while screen.running if presses is None else len(latencies) < presses:
            latencies.append(await clock.press(app, "f"))
            await asyncio.sleep(jitter.uniform(0.005, 0.030))
        r1, f1, t1 = screen.bridge.received, len(screen.finished), time.perf_counter()
    out["loaded"] = percentiles(latencies)
    out["events_per_s_ui"] = (r1 - r0) / (t1 - t0)
    out["replicates_per_s_ui"] = (f1 - f0) / (t1 - t0)
    if presses is None:  # the whole run, over its own duration, as headless_rate does
        out["events_per_s_ui"] = r1 / screen.result.duration
        out["replicates_per_s_ui"] = f1 / screen.result.duration
    out["cross_thread_calls_per_s"] = calls.count / (t1 - t0)
    out["terminal_frame_ms"] = _terminal_frame(app, screen)
    if screen.running:
        screen.action_cancel_run()
        await until(lambda: not screen.running)
    log = screen.query_one("#output", OutputLog)
    log.set_filter(None)  # the presses left some condition's filter on
    out["output_lines_kept"] = len(log.lines)
    idle = []
    for _ in range(idle_presses):
        idle.append(await clock.press(app, "f"))
        await asyncio.sleep(jitter.uniform(0.005, 0.030))
    if idle:
        out["idle"] = percentiles(idle)


def _terminal_frame(app: App, screen: Any) -> float:
    """Headless runs skip turning a frame into escape sequences for the terminal; this is
    that cost for one full frame of the live run screen (best of 20), to show what is left out."""
    best = float("inf")
    for _ in range(20):
        update = screen._compositor.render_update(full=True)
        start = time.perf_counter()
        update.render_segments(app.console)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def key_latency(root: Path, name: str, presses: int | None, idle_presses: int = 0,
                warmup: float = 1.0) -> dict[str, Any]:
    """Press f ``presses`` times (None: until the run ends) while ``name`` streams into the
    run screen, then ``idle_presses`` times with the run over (the baseline); also the
    events/s and replicates/s the run achieved meanwhile."""
    out: dict[str, Any] = {}
    asyncio.run(_load(root, name, presses, idle_presses, warmup, out))
    return out


def headless_rate(root: Path, name: str, window: float | None,
                  warmup: float = 1.0) -> dict[str, float]:
    """Events/s (and replicates/s) of the same run with no app: the run process the app
    would start, its channel drained by a reader that only counts. ``window=None``: the
    whole run (which must end by itself), over the run's own duration as the Result
    reports it; then also ``crystallize run`` alone (nobody listening), from the store."""
    workspace = Workspace(root=root, store_path=root / ".bench" / f"{name}-headless.db")
    process = RunProcess.launch(root, workspace.store, name, {})
    counts = {"events": 0, "finished": 0}
    ended: list[Any] = []

    def read() -> None:
        for batch in process.batches():
            for message in batch:
                if isinstance(message, ev.Event):
                    counts["events"] += 1
                    if isinstance(message, (ev.ReplicateFinished, ev.ReplicateFailed)):
                        counts["finished"] += 1
                elif isinstance(message, RunEnded):
                    ended.append(message.result)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if window is not None:
        while counts["events"] == 0:
            time.sleep(0.01)
        time.sleep(warmup)
        r0, f0, start = counts["events"], counts["finished"], time.perf_counter()
        time.sleep(window)
        now = time.perf_counter()
        rates = {"events_per_s": (counts["events"] - r0) / (now - start),
                 "replicates_per_s": (counts["finished"] - f0) / (now - start)}
        process.cancel(grace=5.0)
        reader.join(60)
        return rates
    reader.join()
    duration = ended[0].duration
    rates = {"events_per_s": counts["events"] / duration,
             "replicates_per_s": len(ended[0].replicate_results) / duration}
    rates["unwatched_replicates_per_s"] = _cli_replicates_per_s(root, name)
    return rates


def _cli_replicates_per_s(root: Path, name: str) -> float:
    """``crystallize run NAME`` in a subprocess, nobody listening: replicates/s over the
    run's recorded span (first start to finish, as the store has it)."""
    import sqlite3
    import subprocess
    import sys

    store = root / ".bench" / f"{name}-cli.db"
    subprocess.run([sys.executable, "-m", "crystallize_tui.cli", "--root", str(root), "--store",
                    str(store), "run", name], check=False, capture_output=True, timeout=600)
    conn = sqlite3.connect(store)
    try:
        (run_id, started, finished), = conn.execute(
            "SELECT run_id, started_at, finished_at FROM runs ORDER BY started_at DESC LIMIT 1")
        (count,), = conn.execute("SELECT COUNT(*) FROM replicates WHERE run_id = ?", (run_id,))
    finally:
        conn.close()
    return count / (finished - started)


# -- memory -------------------------------------------------------------------------------
async def _memory(root: Path, name: str, marks: list[int], out: dict[str, Any]) -> None:
    app = make_app(root, root / ".bench" / f"{name}.db", watch=False)
    async with app.run_test(size=SIZE):
        gc.collect()
        tracemalloc.start()
        screen = await open_run(app, name)
        try:
            t0 = time.perf_counter()
            samples = []
            for mark in marks:
                await until(lambda m=mark: screen.bridge.received >= m, timeout=120, step=0.002)
                gc.collect()  # only live objects count, not garbage awaiting a collection
                samples.append({"events": screen.bridge.received,
                                "traced": tracemalloc.get_traced_memory()[0], "rss": rss_bytes()})
            out["seconds"] = time.perf_counter() - t0
            await until(lambda: not screen.running, timeout=120)
        finally:  # a failed measurement must not leave a run streaming
            tracemalloc.stop()
            await stop_run(screen)
        out["samples"] = samples
        out["status"] = screen.result.status if screen.result else "?"
        out["output_lines_kept"] = len(screen.query_one("#output", OutputLog).lines)


def memory(root: Path, name: str, marks: list[int]) -> dict[str, Any]:
    """tracemalloc (and RSS) after ``marks`` events of a run streaming into the app."""
    out: dict[str, Any] = {}
    asyncio.run(_memory(root, name, marks, out))
    return out
