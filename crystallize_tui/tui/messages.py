"""Typed messages the UI's worker threads post, named as facts that happened."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class ExperimentsLoaded(Message):
    """Discovery finished (at start-up or after files under experiments/ changed)."""

    discovery: Any
    last_runs: dict[str, Any]


@dataclass
class ExperimentFilesChanged(Message):
    """Something under experiments/ changed on disk."""

    paths: list[str]


@dataclass
class RunCompleted(Message):
    """A run's thread returned (finished, failed or cancelled): its Result."""

    result: Any


@dataclass
class RunCrashed(Message):
    """A run could not start, stopped on an error outside the steps (plugin, store...), or
    its process died (``died``: a RunDied, with the replicates it was running)."""

    error: str
    died: Any = None


@dataclass
class DebugCompleted(Message):
    """A debug replicate finished: its ReplicateResult."""

    replicate: Any


@dataclass
class DebugFailed(Message):
    """A debug replicate raised: the exception, with its traceback."""

    error: BaseException


@dataclass
class StatsComputed(Message):
    """Live statistics over the replicates finished so far were computed (a ComparisonTable)."""

    table: Any
    replicates: int = 0  # replicate numbers finished in every condition, the ones compared
    note: str = ""  # what the figures rest on, shown under the table (watch.live_stats)
    died: bool = False  # the last table of a run whose process died
    anytime: bool = False  # ``table`` is the anytime-valid rows of a run still going


@dataclass
class ResumeWasRefused(Message):
    """A resume was refused because the experiment changed since the run (a ResumeRefused)."""

    error: Any


@dataclass
class RerunOptionsFound(Message):
    """The options a stored run ran with were worked out, to run it again."""

    experiment: Any
    choices: dict[str, Any]
    notes: list[str]
