"""Widget costs for bench/tui.py: log ingest rates, and the replicate table's cost per drain."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Log, RichLog

from crystallize_tui.core import events as ev
from crystallize_tui.tui.widgets.output import MAX_LINES, OutputLog
from crystallize_tui.tui.widgets.tables import ReplicateTable

SIZE = (160, 48)


class _OneWidget(App[None]):
    # About the size of the run screen's output and replicate panes.
    CSS = "Log, RichLog, ReplicateTable { width: 78; height: 20; }"

    def __init__(self, widget: Any) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def _lines(n: int) -> list[str]:
    """Lines shaped like the bridge's: prints and ctx.emit events, tagged."""
    return [f"[baseline #0] line {i}" if i % 2 else f"[baseline #0] ▸ tick i={i}"
            for i in range(n)]


async def _ingest(kind: str, n: int, batch: int) -> float:
    widget = {"Log": lambda: Log(max_lines=MAX_LINES),
              "RichLog": lambda: RichLog(max_lines=MAX_LINES),
              "OutputLog.add": lambda: OutputLog()}[kind]()
    lines = _lines(n)
    tagged = [("baseline", line) for line in lines]
    app = _OneWidget(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        for i in range(0, n, batch):
            if kind == "Log":
                widget.write_lines(lines[i:i + batch])
            elif kind == "RichLog":
                for line in lines[i:i + batch]:
                    widget.write(line)
            else:
                widget.add(tagged[i:i + batch])
            # pause(0): every pending message processed, then a forced render; pause()
            # would add Pilot's 20 ms idle-detection floor per batch.
            await pilot.pause(0)
        return n / (time.perf_counter() - start)


def ingest(n: int, batch: int, repeat: int) -> dict[str, float]:
    """Lines/s each widget ingests and renders, best of ``repeat``."""
    return {kind: max(asyncio.run(_ingest(kind, n, batch)) for _ in range(repeat))
            for kind in ("Log", "OutputLog.add", "RichLog")}


def _finished(k: int) -> ev.ReplicateFinished:
    return ev.ReplicateFinished("bench", "abc"[k % 3], k, 0.0, k, 0.001, {"events": 20})


async def _table(sizes: list[int], per_drain: int, repeat: int) -> dict[int, float]:
    table = ReplicateTable(id="replicates")
    app = _OneWidget(table)
    out: dict[int, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        k = 0
        for size in sizes:
            while k < size:
                table.add_replicate(_finished(k))
                k += 1
            await pilot.pause()
            best = float("inf")
            for _ in range(repeat):
                start = time.perf_counter()
                for _ in range(per_drain):
                    table.add_replicate(_finished(k))
                    k += 1
                await pilot.pause(0)
                best = min(best, time.perf_counter() - start)
            out[size] = best * 1e3
    return out


def replicate_table(sizes: list[int], per_drain: int = 70, repeat: int = 5) -> dict[int, float]:
    """ms of UI thread to add one drain's worth of finished replicates (70: 1,000
    replicates/s at 15 drains/s) to the run screen's table and render it, by rows held."""
    return asyncio.run(_table(sizes, per_drain, repeat))
