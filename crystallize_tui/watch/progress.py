"""The one progress reducer: run events in, per-condition counts, elapsed and ETA out."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import events as ev

# What a shown ETA assumes, in one line a view can show beside it (a tooltip, a footnote).
ETA_NOTE = ("ETA: time so far / replicates this run finished in the condition × replicates "
            "left; assumes the rest take as long and conditions advance together")


@dataclass(frozen=True, slots=True)
class ConditionProgress:
    """One condition's progress. ``done`` counts every finished replicate, failed ones
    included, and those a resumed run had finished before (``done_before``)."""

    condition: str
    done: int
    failed: int
    total: int
    done_before: int
    eta: float | None  # seconds; 0.0 when nothing remains; None while it cannot be estimated

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done)


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """The whole run's progress at one moment (``ended`` once it finished or was cancelled)."""

    conditions: tuple[ConditionProgress, ...]
    elapsed: float
    ended: bool

    @property
    def done(self) -> int:
        return sum(c.done for c in self.conditions)

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.conditions)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.conditions)

    def of(self, condition: str) -> ConditionProgress | None:
        return next((c for c in self.conditions if c.condition == condition), None)


class ProgressReducer:
    """Counts a run's finished and failed replicates per condition, from its events.

    ETA of a condition: the time this run has taken so far divided by the replicates it
    finished in that condition (those done before a resume do not count, they took no time
    in this run), times the replicates left. It assumes the replicates still to come take
    as long as those so far and that conditions advance together (the engine runs them in
    rounds). It is None until this run finished one replicate of the condition, and once
    the run ended early. Times are ``time.monotonic()`` readings, as in the events.
    """

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.per_condition = 0
        self.done: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.done_before: dict[str, int] = {}
        self.started_at: float | None = None
        self.ended_at: float | None = None

    # -- feeding ---------------------------------------------------------------------
    def feed(self, event: ev.Event) -> bool:
        """Take one event; True when it changed the counts or the clock."""
        if isinstance(event, (ev.ReplicateFinished, ev.ReplicateFailed)):
            self.count(event.treatment or "", failed=isinstance(event, ev.ReplicateFailed))
            return True
        if isinstance(event, ev.RunStarted):
            self.start(event.conditions, event.replicates, event.done_before, event.time)
            return True
        if isinstance(event, (ev.RunFinished, ev.RunCancelled)):
            self.end(at=self.started_at + event.duration if self.started_at is not None
                     else event.time)
            return True
        return False

    def start(self, conditions: tuple[str, ...] | list[str], per_condition: int,
              done_before: dict[str, int] | None = None, at: float = 0.0) -> None:
        """A run (or a resumed run) began at ``at`` with ``per_condition`` replicates each."""
        self.conditions = list(conditions)
        self.per_condition = per_condition
        self.done_before = {c: (done_before or {}).get(c, 0) for c in self.conditions}
        self.done = dict(self.done_before)
        self.failed = dict.fromkeys(self.conditions, 0)
        self.started_at = at
        self.ended_at = None

    def count(self, condition: str, *, failed: bool = False) -> None:
        """One more replicate of ``condition`` finished (or failed)."""
        if condition not in self.done:  # a condition the run did not announce: still counted
            self.conditions.append(condition)
            self.done_before[condition] = 0
            self.failed[condition] = 0
            self.done[condition] = 0
        self.done[condition] += 1
        if failed:
            self.failed[condition] += 1

    def end(self, at: float) -> None:
        """The run is over (finished or cancelled): the clock stops at ``at``."""
        self.ended_at = at

    # -- reading ---------------------------------------------------------------------
    def elapsed(self, now: float) -> float:
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else now
        return max(0.0, end - self.started_at)

    def eta(self, condition: str, now: float) -> float | None:
        """Seconds until ``condition`` is done (see the class docstring for how)."""
        remaining = self.per_condition - self.done.get(condition, 0)
        if remaining <= 0:
            return 0.0
        new = self.done.get(condition, 0) - self.done_before.get(condition, 0)
        if not new or self.ended_at is not None:
            return None
        return self.elapsed(now) / new * remaining

    def condition(self, condition: str, now: float) -> ConditionProgress:
        return ConditionProgress(
            condition, self.done.get(condition, 0), self.failed.get(condition, 0),
            self.per_condition, self.done_before.get(condition, 0), self.eta(condition, now),
        )

    def snapshot(self, now: float) -> ProgressSnapshot:
        return ProgressSnapshot(tuple(self.condition(c, now) for c in self.conditions),
                                self.elapsed(now), self.ended_at is not None)

    @property
    def finished_count(self) -> int:
        return sum(self.done.values())

    @property
    def total(self) -> int:
        return self.per_condition * len(self.conditions)


def clock(seconds: float) -> str:
    """``m:ss`` for a duration (minutes grow past 59: a long run reads 125:03)."""
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
