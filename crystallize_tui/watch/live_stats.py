"""Live statistics of a run still going: the comparison over replicates done in every condition.

One feed for every view (the TUI's run screens, ``crystallize attach``): it takes finished
replicates as they are announced (events) or as a late watcher reads them from the store,
and computes the comparison on demand, paced so that it never takes more than about a
tenth of the time (a large run's comparison costs seconds, and it competes with the run).

What it assumes, said wherever it is shown (LIVE_NOTE): these are fixed-n tests computed
again as replicates arrive; looking repeatedly and stopping at a small p-value inflates the
false-positive rate, so a live p-value is never a verdict. Only the run's final table is.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core import events as ev
from ..core.result import FAILED, OK, ReplicateResult, Result

LIVE_NOTE = "live: {n} replicate(s) done in every condition · not a verdict yet"
LIVE_ASSUMPTION = ("fixed-n tests recomputed as replicates arrive: stopping when p looks small "
                   "inflates false positives, so only the final table is a verdict")
BUDGET = 0.1  # share of the time the comparison may take while the run goes
MIN_INTERVAL_S = 1.0  # and never more often than this


@dataclass(frozen=True)
class LiveTable:
    """One computation: the comparison, over how many replicates per condition, and the note."""

    comparison: Any  # stats.comparison.ComparisonTable
    replicates: int
    note: str
    cost_s: float


def as_finished_event(run_id: str, rep: Any) -> ev.ReplicateFinished | ev.ReplicateFailed:
    """A stored replicate (core.store's replicate record) as the event that announced it."""
    if rep.ok:
        return ev.ReplicateFinished(run_id, rep.treatment, rep.replicate, 0.0, rep.seed,
                                    rep.duration, rep.metrics)
    return ev.ReplicateFailed(run_id, rep.treatment, rep.replicate, 0.0, rep.seed, rep.duration,
                              rep.error or "", getattr(rep, "traceback", "") or "")


def partial_result(name: str, conditions: list[str], seed: int, finished: Iterable[Any]) -> Result:
    """A Result over the replicates finished so far.

    Only replicate numbers finished (or failed) in every condition take part, renumbered
    0..k-1 in order, so a pair is "dropped" only for a real failure or a missing metric,
    never because one side has not run yet."""
    finished = list(finished)
    done: dict[str, set[int]] = {c: set() for c in conditions}
    for e in finished:
        done.setdefault(e.treatment, set()).add(e.replicate)
    common = sorted(set.intersection(*(done[c] for c in conditions))) if conditions else []
    index = {k: i for i, k in enumerate(common)}
    outcomes = [
        ReplicateResult(e.treatment, index[e.replicate], e.seed, OK, list(e.metrics.items()),
                        e.duration)
        if isinstance(e, ev.ReplicateFinished)
        else ReplicateResult(e.treatment, index[e.replicate], e.seed, FAILED, [], e.duration,
                             e.error, e.traceback)
        for e in finished if e.replicate in index
    ]
    return Result(run_id="live", experiment=name, seed=seed, replicates=len(common),
                  conditions=list(conditions), configs={}, outcomes=outcomes, status="running",
                  complete=False)


class LiveStatistics:
    """Finished replicates in, a paced live comparison out. Not thread-safe: feed it and
    ask it from one thread, or hand ``snapshot()`` to a worker for ``compute``."""

    def __init__(self, experiment: str, conditions: Iterable[str], seed: int) -> None:
        self.experiment = experiment
        self.conditions = list(conditions)
        self.seed = seed
        self.finished: list[ev.ReplicateFinished | ev.ReplicateFailed] = []
        self._dirty = False
        self._last_at = float("-inf")
        self._last_cost = 0.0

    def add(self, events: Iterable[Any]) -> None:
        """Replicates that finished or failed (events; other events are ignored)."""
        before = len(self.finished)
        self.finished.extend(e for e in events
                             if isinstance(e, (ev.ReplicateFinished, ev.ReplicateFailed)))
        self._dirty = self._dirty or len(self.finished) > before

    def add_stored(self, run_id: str, replicates: Iterable[Any]) -> None:
        """Replicates a late watcher read from the store."""
        self.add(as_finished_event(run_id, r) for r in replicates)

    @property
    def comparable(self) -> bool:
        return len(self.conditions) > 1

    def due(self, now: float | None = None) -> bool:
        """New replicates since the last computation, and the pacing allows another."""
        if not self._dirty or not self.comparable:
            return False
        now = time.monotonic() if now is None else now
        return now - self._last_at >= max(MIN_INTERVAL_S, self._last_cost / BUDGET)

    def snapshot(self) -> list[Any]:
        """What to compute over (a copy), marking the feed as computed now."""
        self._dirty = False
        self._last_at = time.monotonic()
        return list(self.finished)

    def compute(self, finished: list[Any] | None = None) -> LiveTable:
        """The comparison over ``finished`` (default: everything so far). Imports scipy:
        call it off a UI thread. Its cost paces the next ``due()``."""
        import crystallize_tui.stats  # noqa: F401 - the import is not the comparison's cost

        began = time.perf_counter()
        rows = self.snapshot() if finished is None else finished
        partial = partial_result(self.experiment, self.conditions, self.seed, rows)
        table = partial.compare()
        self._last_cost = time.perf_counter() - began
        return LiveTable(table, partial.replicates, LIVE_NOTE.format(n=partial.replicates),
                         self._last_cost)
