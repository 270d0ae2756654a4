"""Run progress on the terminal: a rich bar per condition with ETA, or plain lines."""

from __future__ import annotations

import sys
import time
from typing import Any

from ..core import events as ev


class PlainProgress:
    """For pipes and logs: one line per finished replicate when there are few, else
    one per condition every 10%."""

    def __init__(self, conditions: list[str], per_condition: int, out: Any = None) -> None:
        self.out = out or sys.stdout
        self.total = per_condition
        self.done = dict.fromkeys(conditions, 0)
        self.failed = dict.fromkeys(conditions, 0)
        self.every = 1 if per_condition <= 20 else max(1, per_condition // 10)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.total = event.replicates
            self.done.update(event.done_before)
            resumed = (f", resuming with {sum(event.done_before.values())} done"
                       if event.done_before else "")
            self.out.write(
                f"run {event.run_id}: {event.experiment}, {', '.join(event.conditions)}, "
                f"{event.replicates} replicates, seed {event.seed}{resumed}\n"
            )
        elif isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
            c = event.treatment or ""
            self.done[c] = self.done.get(c, 0) + 1
            if isinstance(event, ev.ReplicateFailed):
                self.failed[c] = self.failed.get(c, 0) + 1
                self.out.write(f"  {c} #{event.replicate} failed: {event.error}\n")
            if self.done[c] % self.every == 0 or self.done[c] == self.total:
                failed = f", {self.failed[c]} failed" if self.failed[c] else ""
                self.out.write(f"  {c}: {self.done[c]}/{self.total} done{failed}\n")
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
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.tasks = {
            c: self.progress.add_task(c, total=per_condition, failed="") for c in conditions
        }
        self.failed = dict.fromkeys(conditions, 0)
        self.started = time.monotonic()

    def __enter__(self) -> BarProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
            task = self.tasks.get(event.treatment or "")
            if task is None:
                return
            if isinstance(event, ev.ReplicateFailed):
                self.failed[event.treatment] += 1
                self.progress.update(task, failed=f"[red]{self.failed[event.treatment]} failed")
            self.progress.advance(task)
        elif isinstance(event, ev.RunStarted):
            # A resumed run starts with some replicates done already.
            for c, task in self.tasks.items():
                self.progress.update(task, total=event.replicates,
                                     completed=event.done_before.get(c, 0))
