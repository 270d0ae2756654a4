"""Run progress on the terminal: a rich bar per condition with ETA, or plain lines (counts,
elapsed and ETA from the shared reducer in watch/progress.py)."""

from __future__ import annotations

import sys
import time
from typing import Any

from ..core import events as ev
from ..watch.progress import ProgressReducer, clock


class PlainProgress:
    """For pipes and logs: one line per finished replicate when there are few, else
    one per condition every 10%."""

    def __init__(self, conditions: list[str], per_condition: int, out: Any = None) -> None:
        self.out = out or sys.stdout
        self.progress = ProgressReducer()
        self.progress.start(conditions, per_condition, at=time.monotonic())
        self.every = 1 if per_condition <= 20 else max(1, per_condition // 10)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, event: ev.Event) -> None:
        if not self.progress.feed(event):
            return
        if isinstance(event, ev.RunStarted):
            resumed = (f", resuming with {sum(event.done_before.values())} done"
                       if event.done_before else "")
            self.out.write(
                f"run {event.run_id}: {event.experiment}, {', '.join(event.conditions)}, "
                f"{event.replicates} replicates, seed {event.seed}{resumed}\n"
            )
        elif isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
            c = self.progress.condition(event.treatment or "", event.time)
            if isinstance(event, ev.ReplicateFailed):
                self.out.write(f"  {c.condition} #{event.replicate} failed: {event.error}\n")
            if c.done % self.every == 0 or c.done == c.total:
                failed = f", {c.failed} failed" if c.failed else ""
                self.out.write(f"  {c.condition}: {c.done}/{c.total} done{failed}\n")
        else:
            return
        self.out.flush()


class BarProgress:
    """For terminals: one rich progress bar per condition, with elapsed time and ETA."""

    def __init__(self, conditions: list[str], per_condition: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
        )
        from rich.text import Text

        counts = self.counts = ProgressReducer()
        counts.start(conditions, per_condition, at=time.monotonic())

        class Clock(ProgressColumn):
            """Elapsed or ETA of a condition, from the reducer, at each redraw."""

            def __init__(self, what: str) -> None:
                super().__init__()
                self.what = what

            def render(self, task: Any) -> Text:
                now = time.monotonic()
                if self.what == "elapsed":
                    return Text(clock(counts.elapsed(now)), style="progress.elapsed")
                eta = counts.eta(task.description, now)
                return Text("-:--" if eta is None else clock(eta), style="progress.remaining")

        self.progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            Clock("elapsed"),
            TextColumn("eta"),
            Clock("eta"),
            transient=False,
        )
        self.tasks = {
            c: self.progress.add_task(c, total=per_condition, failed="") for c in conditions
        }

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def __call__(self, event: ev.Event) -> None:
        if not self.counts.feed(event):
            return
        # The reducer counts (a resumed run starts with some replicates done); rich draws.
        for c in self.counts.snapshot(event.time).conditions:
            task = self.tasks.get(c.condition)
            if task is not None:
                self.progress.update(task, total=c.total, completed=c.done,
                                     failed=f"[red]{c.failed} failed" if c.failed else "")
