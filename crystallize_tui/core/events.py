"""The events a run publishes: plain frozen dataclasses that pickle across processes.

Every event carries the run id, the condition ("baseline" or a treatment name; None for
run-level events), the replicate index (None for run-level events) and ``time``, a
``time.monotonic()`` reading taken where the event happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    run_id: str
    treatment: str | None
    replicate: int | None
    time: float


@dataclass(frozen=True, slots=True)
class RunStarted(Event):
    experiment: str
    conditions: tuple[str, ...]
    replicates: int
    seed: int
    total: int  # replicates this run will execute (after resume skips, before cancel)
    done_before: dict[str, int] = field(default_factory=dict)  # resumed: finished per condition


@dataclass(frozen=True, slots=True)
class ReplicateStarted(Event):
    seed: int


@dataclass(frozen=True, slots=True)
class StepStarted(Event):
    step: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class StepFinished(Event):
    step: str
    duration: float
    ok: bool = True


@dataclass(frozen=True, slots=True)
class MetricRecorded(Event):
    name: str
    value: float | int | bool


@dataclass(frozen=True, slots=True)
class Output(Event):
    """One line a step printed (``stream`` is "stdout" or "stderr") or logged ("log")."""

    stream: str
    text: str


@dataclass(frozen=True, slots=True)
class UserEvent(Event):
    """What a step sent with ``ctx.emit(kind, **data)``."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArtifactSaved(Event):
    """A file ``ctx.artifacts.save`` wrote."""

    name: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ReplicateFinished(Event):
    seed: int
    duration: float
    metrics: dict[str, Any]  # last value of each metric


@dataclass(frozen=True, slots=True)
class ReplicateFailed(Event):
    seed: int
    duration: float
    error: str  # "ExceptionType: message"
    traceback: str


@dataclass(frozen=True, slots=True)
class RunFinished(Event):
    status: str  # "completed" or "failed" (some replicate failed)
    duration: float
    finished: int
    failed: int


@dataclass(frozen=True, slots=True)
class RunCancelled(Event):
    duration: float
    finished: int
    failed: int


RUN_LEVEL = (RunStarted, RunFinished, RunCancelled)

__all__ = [
    "Event",
    "RunStarted",
    "ReplicateStarted",
    "StepStarted",
    "StepFinished",
    "MetricRecorded",
    "Output",
    "UserEvent",
    "ArtifactSaved",
    "ReplicateFinished",
    "ReplicateFailed",
    "RunFinished",
    "RunCancelled",
]
