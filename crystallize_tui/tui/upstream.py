"""A chained experiment's stale producers, offered before its run, and the messages of a
chain run in one process (core/chain_process.py): each producer's run shows on a run screen
of its own, titled as upstream of the consumer, fed by the consumer's reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..core.chain import is_chained
from ..core.chain_upstream import stale_producers


@dataclass
class UpstreamStale(Message):
    """Producers of the experiment about to run are stale: ``(name, why)`` each."""

    stale: list[tuple[str, str]]
    options: dict[str, Any]


@dataclass
class UpstreamNeeded(Message):
    """The chain's process started ``producer``'s run (``why``: what made it stale): its
    events go to ``bridge``, which a run screen of its own shows."""

    producer: Any
    why: str
    bridge: Any


@dataclass
class UpstreamRunEnded(Message):
    """The producer's run that started last ended: its Result, or None with ``error`` when
    the chain's process died or failed meanwhile."""

    result: Any
    error: str = ""


@dataclass
class ChainWasStopped(Message):
    """The chain's process ended without starting the consumer (its ChainStopped)."""

    producer: str
    run_id: str | None
    why: str


def stale_upstream(workspace: Any, experiment: Any) -> list[tuple[str, str]]:
    """The stale producers of ``experiment`` (none when it reads no other experiment).
    Loads and fingerprints them: call it off the UI thread."""
    if not is_chained(experiment.datasource):
        return []
    return stale_producers(experiment, workspace.experiment, workspace.store)


def question(consumer: str, stale: list[tuple[str, str]]) -> str:
    """"chain_data has no completed run: run it first?" (and so for several)."""
    if len(stale) == 1:
        name, why = stale[0]
        return f"{name} has {why}: run it first?" if why.startswith("no ") else f"{name} {why}: run it first?"
    listed = "\n".join(f"  - {name}: {why}" for name, why in stale)
    return f"{consumer} reads experiments that are not up to date:\n{listed}\nRun them first, then {consumer}?"
