"""A chained experiment's stale producers, offered before its run: the question, and which
producer runs next (each then runs on a run screen of its own, titled as upstream of the
consumer, before the consumer starts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..core.chain import is_chained
from ..core.chain_upstream import producers, stale_producers, stale_reason


@dataclass
class UpstreamStale(Message):
    """Producers of the experiment about to run are stale: ``(name, why)`` each."""

    stale: list[tuple[str, str]]
    options: dict[str, Any]


@dataclass
class UpstreamNeeded(Message):
    """``producer`` must run before the consumer (``why``): the consumer's run screen opens
    one for it; ``options`` are the consumer's, kept for when its turn comes."""

    producer: Any
    why: str
    options: dict[str, Any]


def stale_upstream(workspace: Any, experiment: Any) -> list[tuple[str, str]]:
    """The stale producers of ``experiment`` (none when it reads no other experiment).
    Loads and fingerprints them: call it off the UI thread."""
    if not is_chained(experiment.datasource):
        return []
    return stale_producers(experiment, workspace.experiment, workspace.store)


def next_stale(workspace: Any, experiment: Any) -> tuple[Any, str] | None:
    """The first producer of ``experiment`` (producers first) that is stale now, with why; None
    when all are up to date. Asked again after each producer run, as ``run_upstream`` does: a
    producer reading a stale one is found stale once that one has run. Off the UI thread."""
    if not is_chained(experiment.datasource):
        return None
    for producer in producers(experiment, workspace.experiment):
        producer.store = workspace.store
        why = stale_reason(producer, workspace.store)
        if why is not None:
            return producer, why
    return None


def question(consumer: str, stale: list[tuple[str, str]]) -> str:
    """"chain_data has no completed run: run it first?" (and so for several)."""
    if len(stale) == 1:
        name, why = stale[0]
        return f"{name} has {why}: run it first?" if why.startswith("no ") else f"{name} {why}: run it first?"
    listed = "\n".join(f"  - {name}: {why}" for name, why in stale)
    return f"{consumer} reads experiments that are not up to date:\n{listed}\nRun them first, then {consumer}?"


def upstream_failure(result: Any) -> str | None:
    """Why a producer's run does not let its consumer start (as ``run_upstream`` decides),
    or None when it completed without a failed replicate."""
    if result.status == "completed" and not result.errors:
        return None
    if result.status == "cancelled":
        return f"run {result.run_id} was cancelled"
    return (f"run {result.run_id} ended {result.status} with {len(result.errors)} failed "
            "replicate(s)")
